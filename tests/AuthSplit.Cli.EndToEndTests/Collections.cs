using AuthSplit.Testing;

namespace AuthSplit.Cli.EndToEndTests;

[CollectionDefinition(SlapdFixture.Collection)]
public sealed class SlapdCollection : ICollectionFixture<SlapdFixture>;
