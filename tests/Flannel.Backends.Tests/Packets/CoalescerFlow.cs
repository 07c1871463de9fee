namespace Flannel.Backends.Tests.Packets;

/// <summary>Consecutive segments of one TCP flow, as a peer's TSO would put them on the wire.</summary>
internal sealed class CoalescerFlow
{
    public const int Ipl = 20;
    public const int Tcpl = TestPacket.TcpWithTimestamps;
    public const int Hdr = Ipl + Tcpl;
    public static readonly uint Source = TestPacket.Ip("10.6.200.7");
    public static readonly uint Destination = TestPacket.Ip("10.6.93.5");

    private readonly Random _random = new(1122);

    public uint Seq { get; set; } = 0xFFFF_FC00; // the merge continues across the 2^32 wrap
    public uint AckNumber { get; set; } = 0x5000_0001;
    public ushort Id { get; set; } = 100;

    public List<byte> Sent { get; } = [];

    /// <summary>The next in-order segment; the flow's sequence number moves past it.</summary>
    public byte[] Next(int payloadLength, byte flags = TestPacket.Ack, byte ttl = 63)
    {
        var payload = TestPacket.Random(_random, payloadLength);
        var p = TestPacket.Tcp(Source, Destination, Seq, AckNumber, flags, payload, ttl, Id++);
        Seq = unchecked(Seq + (uint)payloadLength);
        Sent.AddRange(payload);
        return p;
    }
}
