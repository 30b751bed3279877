using AuthSplit.Testing;

namespace AuthSplit.Graph.Tests;

[CollectionDefinition(PostgresFixture.Collection)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>;
