using AuthSplit.Graph.Emulator;

// authsplit-graph-emulator --users DIR|FILE [--port N]; the token comes from AUTHSPLIT_EMULATOR_TOKEN.
// A STAND-IN for Microsoft Graph, for rehearsals; never point the product's real runs at it.
var users = Argument(args, "--users");
var port = int.Parse(Argument(args, "--port") ?? "0", System.Globalization.CultureInfo.InvariantCulture);
var token = Environment.GetEnvironmentVariable("AUTHSPLIT_EMULATOR_TOKEN");
if (string.IsNullOrEmpty(token))
{
    await Console.Error.WriteLineAsync("set AUTHSPLIT_EMULATOR_TOKEN to the bearer token clients must present");
    return 2;
}

await using var emulator = await GraphEmulator.StartAsync(new GraphEmulatorOptions
{
    AccessToken = token,
    Port = port,
    Users = users is null ? [] : GraphEmulatorOptions.ReadPages(users),
}, CancellationToken.None);
Console.WriteLine($"Graph emulator (a stand-in, not Microsoft Graph) listening on {emulator.BaseUrl}");
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
try
{
    await Task.Delay(Timeout.Infinite, stop.Token);
}
catch (OperationCanceledException)
{
}

return 0;

static string? Argument(string[] args, string name)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}
