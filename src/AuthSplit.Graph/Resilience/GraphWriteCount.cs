using Microsoft.Kiota.Abstractions;

namespace AuthSplit.Graph.Resilience;

/// <summary>
/// How many writes a request carries, for the write limiter: a <c>$batch</c> counts its write
/// sub-requests (a batch of reads counts none). Kiota hands request options to the HTTP middleware
/// as <see cref="HttpRequestMessage.Options"/>.
/// </summary>
public sealed class GraphWriteCount(int writes) : IRequestOption
{
    internal static readonly HttpRequestOptionsKey<IRequestOption> Key = new(typeof(GraphWriteCount).FullName!);

    public int Writes { get; } = writes;
}
