using AuthSplit.Testing;
using Xunit.Abstractions;

[assembly: TestCollectionOrderer("AuthSplit.Cli.EndToEndTests.LongChainsFirst", "AuthSplit.Cli.EndToEndTests")]

namespace AuthSplit.Cli.EndToEndTests;

/// <summary>
/// Starts the collections that chain several long classes on one server first: the PostgreSQL cluster classes
/// (about 8 minutes one after another) and the Active Directory classes on their one DC (about 4). Started in
/// the default order they began after most others and ran alone at the end, the suite's long pole; the other
/// collections (a class each) then fill the remaining threads around them. The order changes no test's outcome.
/// </summary>
public sealed class LongChainsFirst : ITestCollectionOrderer
{
    private static readonly string[] First = [PostgresFixture.Collection, SambaAdFixture.Collection];

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        testCollections.OrderBy(collection => Array.IndexOf(First, collection.DisplayName) is var rank and >= 0 ? rank : First.Length);
}
