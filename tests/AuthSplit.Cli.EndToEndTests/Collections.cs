using AuthSplit.Testing;

namespace AuthSplit.Cli.EndToEndTests;

[CollectionDefinition(SlapdFixture.Collection)]
public sealed class SlapdCollection : ICollectionFixture<SlapdFixture>;

[CollectionDefinition(SambaAdFixture.Collection, DisableParallelization = true)]
public sealed class SambaAdCollection : ICollectionFixture<SambaAdFixture>;

[CollectionDefinition(PostgresFixture.Collection)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>;
