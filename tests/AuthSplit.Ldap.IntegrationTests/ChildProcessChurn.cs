using System.Diagnostics;

namespace AuthSplit.Ldap.IntegrationTests;

/// <summary>
/// Short-lived child processes started from pool threads, one after another on several loops, until
/// disposed: what a full test run does all the time (each slapd fixture runs slapadd, ldapmodify,
/// openssl...). Every child that ends sends SIGCHLD to the thread that started it, which .NET handles
/// (it reaps children), so the signal interrupts whatever system call that thread is blocked in.
/// </summary>
internal sealed class ChildProcessChurn : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _loops;
    private int _ended;

    public ChildProcessChurn(int loops, TimeSpan childLifetime)
    {
        var seconds = childLifetime.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
        _loops = [.. Enumerable.Range(0, loops).Select(_ => Task.Run(() => LoopAsync(seconds)))];
    }

    /// <summary>Children that have started and ended so far (each one a SIGCHLD).</summary>
    public int Ended => Volatile.Read(ref _ended);

    /// <summary>Waits until <paramref name="count"/> children have ended (the pool has warmed up).</summary>
    public async Task WaitForChildrenAsync(int count)
    {
        while (Ended < count)
        {
            await Task.Delay(10);
        }
    }

    private async Task LoopAsync(string seconds)
    {
        while (!_stop.IsCancellationRequested)
        {
            // Started on a pool thread, which then goes back to the pool while the child lives: the same
            // threads run the LDAP calls, so the child's end finds one of them waiting inside libldap.
            using var child = await Task.Run(() => Process.Start(new ProcessStartInfo("sleep", seconds) { UseShellExecute = false })!);
            await child.WaitForExitAsync(CancellationToken.None);
            Interlocked.Increment(ref _ended);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_loops);
        _stop.Dispose();
    }
}
