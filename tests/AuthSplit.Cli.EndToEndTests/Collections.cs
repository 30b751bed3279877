using AuthSplit.Testing;

// Three test classes at a time (xUnit's default is one per core, two here): most end-to-end tests wait on real
// servers, processes and the Graph emulator's pacing, not on the CPU (docs/benchmarks.md, "The test suite's time").
[assembly: CollectionBehavior(MaxParallelThreads = 3)]

namespace AuthSplit.Cli.EndToEndTests;

[CollectionDefinition(SlapdFixture.Collection)]
public sealed class SlapdCollection : ICollectionFixture<SlapdFixture>;

// One DC for the collection (its tests run one after another); beside other collections, which use no fixed
// port. The lab's own DC (LabActiveDirectoryTests) runs alone after every parallel collection, when this
// collection's DC is stopped and its machine-wide lock released.
[CollectionDefinition(SambaAdFixture.Collection)]
public sealed class SambaAdCollection : ICollectionFixture<SambaAdFixture>;

[CollectionDefinition(PostgresFixture.Collection)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>;
