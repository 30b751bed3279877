using AuthSplit.Cli;

return await AuthSplitCommandLine.RunAsync(args);
