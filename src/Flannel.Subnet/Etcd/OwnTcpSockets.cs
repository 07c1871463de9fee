using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Flannel.Subnet.Etcd;

/// <summary>
/// This process's own TCP sockets, found through /proc. The kernel keeps a TCP connection whose local address was
/// removed: it never resets it, and its packets leave with a source nobody answers (Android destroys such sockets with
/// SOCK_DESTROY for this reason, which needs CONFIG_INET_DIAG_DESTROY). gRPC's client-side balancing owns the etcd
/// sockets and refuses a ConnectCallback that would let us track them, so they are looked up by inode instead.
/// </summary>
internal static class OwnTcpSockets
{
    /// <summary>shutdown(2) of every own IPv4 TCP socket bound to <paramref name="local"/>; returns how many.</summary>
    public static int ShutDownFrom(IPAddress local)
    {
        // .NET's sockets are dual-stack IPv6 ones by default (gRPC's among them): an IPv4 connection is listed in tcp6
        // with its v4-mapped address.
        var inodes = InodesFrom(local, SafeRead("/proc/net/tcp"));
        inodes.UnionWith(InodesFrom(local.MapToIPv6(), SafeRead("/proc/net/tcp6")));
        if (inodes.Count == 0)
        {
            return 0;
        }
        int done = 0;
        foreach (var fd in OwnSocketFds(inodes))
        {
            try
            {
                // Not owned: gRPC's Socket still closes the descriptor; a shutdown ends the connection under it, as a
                // reset from the network would.
                using var socket = new Socket(new SafeSocketHandle((IntPtr)fd, ownsHandle: false));
                socket.Shutdown(SocketShutdown.Both);
                done++;
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or ArgumentException)
            {
            }
        }
        return done;
    }

    /// <summary>The inodes of the sockets in a /proc/net/tcp listing whose local address is <paramref name="local"/>.</summary>
    internal static HashSet<long> InodesFrom(IPAddress local, string table)
    {
        var inodes = new HashSet<long>();
        string want = ProcFormat(local);
        foreach (var line in table.Split('\n').Skip(1))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
            if (f.Length >= 10 && f[1].StartsWith(want + ":", StringComparison.Ordinal) &&
                long.TryParse(f[9], NumberStyles.Integer, CultureInfo.InvariantCulture, out long inode) && inode != 0)
            {
                inodes.Add(inode);
            }
        }
        return inodes;
    }

    /// <summary>
    /// An address as /proc/net/tcp{,6} prints it: each 32-bit word of the network-order bytes loaded in this CPU's
    /// order and printed with %08X (so 198.51.100.1 is 016433C6 on x86).
    /// </summary>
    internal static string ProcFormat(IPAddress address)
    {
        var bytes = address.GetAddressBytes();
        var text = new System.Text.StringBuilder(bytes.Length * 2);
        for (int i = 0; i < bytes.Length; i += 4)
        {
            text.Append(BitConverter.ToUInt32(bytes, i).ToString("X8", CultureInfo.InvariantCulture));
        }
        return text.ToString();
    }

    private static IEnumerable<int> OwnSocketFds(HashSet<long> inodes)
    {
        string[] entries;
        try
        {
            entries = Directory.GetFiles("/proc/self/fd");
        }
        catch (IOException)
        {
            yield break;
        }
        foreach (var path in entries)
        {
            string? target = null;
            try
            {
                target = new FileInfo(path).LinkTarget;
            }
            catch (IOException)
            {
            }
            if (target is not null && target.StartsWith("socket:[", StringComparison.Ordinal) &&
                long.TryParse(target.AsSpan(8, target.Length - 9), NumberStyles.Integer, CultureInfo.InvariantCulture, out long inode) &&
                inodes.Contains(inode) && int.TryParse(Path.GetFileName(path), NumberStyles.Integer, CultureInfo.InvariantCulture, out int fd))
            {
                yield return fd;
            }
        }
    }

    private static string SafeRead(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return "";
        }
    }
}
