namespace AuthSplit.Graph.Emulator;

/// <summary>A write the emulator applied (a refused or faulted write is not recorded).</summary>
public sealed record EmulatorWrite(long Sequence, string Method, string Path, string Body, string? ClientRequestId, DateTimeOffset At);
