using AuthSplit.Cli.Planning;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Planning.DryRun;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Cli.EndToEndTests;

/// <summary>
/// <c>plan --save-snapshot</c>'s directory replaced by a later save that is cut off half-way (a crash while its
/// files are being put in place): what is left must not pass for the earlier snapshot with its files changed
/// (which <c>--replay</c> would report as tampering), but read as a save that did not finish.
/// </summary>
public sealed class SnapshotDirectoryTests
{
    private static SavedReads Reads(string sha256) => new(
        new InputDescription { Kind = "ldap", Location = "ldaps://127.0.0.1:636", Sha256 = sha256, Count = 1 },
        new InputDescription { Kind = "graph", Location = "http://127.0.0.1:1/v1.0", Sha256 = sha256, Count = 0 },
        null,
        null);

    [Fact]
    public async Task A_save_cut_off_while_its_files_are_put_in_place_leaves_no_snapshot_json_and_replay_says_it_did_not_finish()
    {
        var directory = Path.Combine(CliRunner.NewWorkDirectory(), "snapshot");
        await using (var first = new SnapshotDirectory(directory, Serilog.Core.Logger.None))
        {
            // The stream stays the snapshot's: the adapter writes into it, the commit closes it.
            await first.OpenSource().WriteAsync("dn: dc=example,dc=jp\ndc: example\n\n"u8.ToArray());

            await first.CommitAsync(Reads("sha256:" + new string('1', 64)), CancellationToken.None);
        }

        File.Exists(Path.Combine(directory, SnapshotDescriptor.FileName)).Should().BeTrue("the first save finished");

        var second = new SnapshotDirectory(directory, Serilog.Core.Logger.None);
        await second.OpenSource().WriteAsync("dn: dc=example,dc=jp\ndc: example\ndescription: changed since\n\n"u8.ToArray());

        second.Add(new FailingPart());
        var cutOff = () => second.CommitAsync(Reads("sha256:" + new string('2', 64)), CancellationToken.None);
        await cutOff.Should().ThrowAsync<IOException>();
        await second.DisposeAsync();

        File.ReadAllText(Path.Combine(directory, "source.ldif")).Should().Contain("changed since", "the new source was put in place before the cut");
        File.Exists(Path.Combine(directory, SnapshotDescriptor.FileName)).Should().BeFalse("the old description must not describe the new files");
        var replay = () => SnapshotReplay.OpenAsync(directory, null, null, CancellationToken.None);
        (await replay.Should().ThrowAsync<InputException>()).Which.Message.Should().Contain("its save was cut off before it finished");
    }

    private sealed class FailingPart : IStagedSnapshotPart
    {
        public string Name => "target";

        public string Destination => "target";

        public void Commit() => throw new IOException("No space left on device (the test's cut)");

        public void Dispose()
        {
        }
    }
}
