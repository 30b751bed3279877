using AuthSplit.Cli;
using AuthSplit.Cli.Output;

// Plans, snapshots and logs hold personal data: whatever this process (or a library) creates is owner-only.
UnixFile.RestrictUmask();
using var interruption = Interruption.Register();
return await AuthSplitCommandLine.RunAsync(args, interruption: interruption);
