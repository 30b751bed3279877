using AuthSplit.Core.Configuration;
using AuthSplit.Graph.Auth;
using AuthSplit.Graph.Emulator;
using AuthSplit.Graph.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuthSplit.Graph.Tests;

/// <summary>The connector pointed at an emulator (or an emulator process's URL) with a static token, as the tests set it up.</summary>
internal static class EmulatorConnection
{
    /// <summary>Quick retries and writes unpaced: for tests about batching and retries, not Graph's pacing.</summary>
    public static readonly GraphResilienceOptions FastRetries = new() { BaseDelay = TimeSpan.FromMilliseconds(5), MaxDelay = TimeSpan.FromSeconds(2), MaxRetries = 10, BreakerMinimumThroughput = 10_000, WritesPerWindow = 100_000, WriteWindow = TimeSpan.FromSeconds(1), ReadBackDelay = TimeSpan.FromMilliseconds(10) };

    /// <summary>A Target that takes its token from <paramref name="tokenVariable"/> and may speak plain HTTP to the loopback emulator.</summary>
    public static TargetOptions StaticToken(string baseUrl, string tokenVariable = "T") =>
        new() { BaseUrl = baseUrl, Auth = "StaticToken", TokenEnvVar = tokenVariable, AllowInsecureLoopback = true };

    public static GraphConnection Connect(string baseUrl, string token, GraphResilienceOptions resilience, ILogger? logger = null) =>
        GraphConnection.Create(StaticToken(baseUrl), resilience, logger ?? NullLogger.Instance, _ => token);

    public static GraphConnection Connect(GraphEmulator emulator, string token, GraphResilienceOptions? resilience = null) =>
        Connect(emulator.BaseUrl.ToString(), token, resilience ?? FastRetries);
}
