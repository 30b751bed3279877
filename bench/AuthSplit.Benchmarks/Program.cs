using AuthSplit.Benchmarks;

return await BenchmarkCommands.RunAsync(args);
