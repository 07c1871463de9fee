namespace Flannel.Backends.Udp;

/// <summary>
/// An immutable snapshot of the peers, looked up per packet without allocation: by inner destination (a hash per
/// distinct prefix length, so O(1) in practice since every lease has the config's SubnetLen) and by outer source. The
/// pump reads the current table once per batch; lease events build a new one and swap it in. The table also carries
/// this host's <see cref="UdpSourceCheck"/>, the rule the wire side applies with it.
/// </summary>
public sealed class PeerTable
{
    private readonly UdpPeer[] _peers;
    private readonly int[] _prefixLengths;
    private readonly Dictionary<uint, int>[] _bySubnet;
    private readonly Dictionary<uint, int> _byPublicIp;

    public static PeerTable Empty { get; } = new([]);

    public PeerTable(IEnumerable<UdpPeer> peers, UdpSourceCheck sourceCheck = UdpSourceCheck.Strict)
    {
        SourceCheck = sourceCheck;
        _peers = [.. peers];
        _prefixLengths = [.. _peers.Select(p => p.Subnet.PrefixLength).Distinct().OrderDescending()];
        _bySubnet = new Dictionary<uint, int>[_prefixLengths.Length];
        for (int l = 0; l < _prefixLengths.Length; l++)
        {
            _bySubnet[l] = [];
        }
        _byPublicIp = [];
        for (int i = 0; i < _peers.Length; i++)
        {
            var p = _peers[i];
            _bySubnet[Array.IndexOf(_prefixLengths, p.Subnet.PrefixLength)][p.Subnet.Network.Ip.Value] = i;
            _byPublicIp[p.PublicIP.Value] = i;
        }
    }

    public int Count => _peers.Length;

    /// <summary>What a datagram's outer and inner sources must satisfy to enter the overlay.</summary>
    public UdpSourceCheck SourceCheck { get; }

    public IReadOnlyList<UdpPeer> Peers => _peers;

    /// <summary>
    /// The peer whose subnet holds <paramref name="destination"/> (longest prefix first), or -1; the wire side asks it
    /// about inner sources too.
    /// </summary>
    public int FindByDestination(uint destination)
    {
        for (int l = 0; l < _prefixLengths.Length; l++)
        {
            int len = _prefixLengths[l];
            uint mask = len == 0 ? 0 : uint.MaxValue << (32 - len);
            if (_bySubnet[l].TryGetValue(destination & mask, out int index))
            {
                return index;
            }
        }
        return -1;
    }

    /// <summary>A peer publishing <paramref name="publicIp"/> (the last listed when several leases share it), or -1.</summary>
    public int FindByPublicIp(uint publicIp) => _byPublicIp.TryGetValue(publicIp, out int index) ? index : -1;

    public ref readonly UdpPeer this[int index] => ref _peers[index];
}
