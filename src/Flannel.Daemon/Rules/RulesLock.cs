namespace Flannel.Daemon.Rules;

/// <summary>
/// A host-wide lock around our read-plan-write of the packet filter, held by every flannel-cs daemon on the host: two
/// daemons that both found a shared rule (a jump) missing would otherwise both append it. The lock file also holds a
/// counter bumped by every write, so that a read done ahead (during the lease) is known to be still current when no
/// daemon of ours wrote since. flanneld takes no such lock; a duplicate it races in is removed by our next check.
/// </summary>
internal sealed class RulesLock(string path)
{
    public static RulesLock Host { get; } = new("/run/flannel-cs-rules.lock");

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Takes the lock (waiting up to 10 s for another daemon); a lock file that cannot be opened or a holder that does not
    /// let go is worked around without the lock rather than leaving the rules unrepaired.
    /// </summary>
    public Held Acquire()
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            try
            {
                // FileShare.None makes .NET take flock(LOCK_EX | LOCK_NB) on the file.
                var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
                return new Held(file);
            }
            catch (DirectoryNotFoundException)
            {
                return new Held(null);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(2);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return new Held(null);
            }
        }
    }

    /// <summary>The lock while held; <see cref="Generation"/> counts the writes of every daemon of ours.</summary>
    public sealed class Held : IDisposable
    {
        private readonly FileStream? _file;

        internal Held(FileStream? file)
        {
            _file = file;
            Generation = file is null ? -1 : Read(file);
        }

        /// <summary>-1 without the lock: then no read ahead counts as current.</summary>
        public long Generation { get; private set; }

        public void Wrote()
        {
            if (_file is null)
            {
                return;
            }
            Generation++;
            var bytes = System.Text.Encoding.ASCII.GetBytes(Generation.ToString(System.Globalization.CultureInfo.InvariantCulture));
            _file.SetLength(0);
            _file.Position = 0;
            _file.Write(bytes);
            _file.Flush();
        }

        public void Dispose() => _file?.Dispose();

        private static long Read(FileStream file)
        {
            var buffer = new byte[32];
            int n = file.Read(buffer);
            return long.TryParse(System.Text.Encoding.ASCII.GetString(buffer, 0, n), System.Globalization.CultureInfo.InvariantCulture, out long g)
                ? g
                : 0;
        }
    }
}
