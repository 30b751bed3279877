namespace AuthSplit.Graph.Emulator;

/// <summary>
/// A request (or <c>$batch</c> sub-request, <paramref name="InBatch"/>) the emulator received and the status it answered
/// (0: the connection was dropped); <paramref name="Authorization"/> is the header it carried, so a test can prove where a token went.
/// </summary>
public sealed record EmulatorRequest(long Sequence, string Method, string PathAndQuery, int Status, bool InBatch, string? Authorization, bool RetryAfter);
