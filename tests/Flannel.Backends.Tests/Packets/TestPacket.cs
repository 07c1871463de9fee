using System.Buffers.Binary;
using Flannel.Subnet.Ip;

namespace Flannel.Backends.Tests.Packets;

/// <summary>
/// Builds IPv4/TCP/UDP packets for the packet-path tests and checks them with a deliberately naive RFC 1071 reference
/// (one big-endian 16-bit word at a time), so the fast code under test is never used to verify itself.
/// </summary>
internal static class TestPacket
{
    public const byte Fin = 0x01;
    public const byte Syn = 0x02;
    public const byte Psh = 0x08;
    public const byte Ack = 0x10;
    public const ushort DontFragment = 0x4000;

    /// <summary>The TCP header length with the 12 bytes of NOP, NOP, timestamps that Linux puts on every segment.</summary>
    public const int TcpWithTimestamps = 32;

    public static uint Ip(string address) => Ip4Address.Parse(address).Value;

    /// <summary>RFC 1071 by the book: the folded, non-inverted sum of big-endian words, an odd last byte padded with 0.</summary>
    public static ushort ReferenceSum(ReadOnlySpan<byte> data, ulong initial = 0)
    {
        ulong sum = initial;
        for (int i = 0; i < data.Length; i += 2)
        {
            sum += (ulong)((data[i] << 8) | (i + 1 < data.Length ? data[i + 1] : 0));
        }
        while ((sum >> 16) != 0)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        return (ushort)sum;
    }

    public static ushort ReferenceChecksum(ReadOnlySpan<byte> data, ulong initial = 0) => (ushort)~ReferenceSum(data, initial);

    public static int HeaderLength(ReadOnlySpan<byte> packet) => (packet[0] & 0x0F) * 4;

    /// <summary>The TCP/UDP pseudo-header sum (not folded) for the L4 part of <paramref name="packet"/>.</summary>
    public static ulong ReferencePseudo(ReadOnlySpan<byte> packet)
    {
        ulong sum = 0;
        for (int i = 12; i < 20; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(packet[i..]);
        }
        return sum + packet[9] + (ulong)(packet.Length - HeaderLength(packet));
    }

    /// <summary>The folded pseudo-header sum a CHECKSUM_PARTIAL (NEEDS_CSUM) packet carries in its checksum field.</summary>
    public static ushort PartialChecksum(ReadOnlySpan<byte> packet) => ReferenceSum([], ReferencePseudo(packet));

    public static bool IpChecksumValid(ReadOnlySpan<byte> packet) => ReferenceSum(packet[..HeaderLength(packet)]) == 0xFFFF;

    public static bool L4ChecksumValid(ReadOnlySpan<byte> packet) =>
        ReferenceSum(packet[HeaderLength(packet)..], ReferencePseudo(packet)) == 0xFFFF;

    public static void FixIpChecksum(Span<byte> packet)
    {
        packet[10] = packet[11] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(packet[10..], ReferenceChecksum(packet[..HeaderLength(packet)]));
    }

    /// <summary>Writes a correct TCP (offset 16) or UDP (offset 6) checksum.</summary>
    public static void FixL4Checksum(Span<byte> packet)
    {
        int field = HeaderLength(packet) + (packet[9] == 6 ? 16 : 6);
        packet[field] = packet[field + 1] = 0;
        ushort sum = ReferenceChecksum(packet[HeaderLength(packet)..], ReferencePseudo(packet));
        if (sum == 0 && packet[9] == 17)
        {
            sum = 0xFFFF;
        }
        BinaryPrimitives.WriteUInt16BigEndian(packet[field..], sum);
    }

    public static void SetTtl(Span<byte> packet, byte ttl)
    {
        packet[8] = ttl;
        FixIpChecksum(packet);
    }

    public static byte[] Random(Random random, int length)
    {
        var data = new byte[length];
        random.NextBytes(data);
        return data;
    }

    public static byte[] Ipv4(byte protocol, uint source, uint destination, ReadOnlySpan<byte> l4, byte ttl = 64,
        ushort id = 0x1234, ushort flagsAndOffset = DontFragment, byte tos = 0, int optionBytes = 0)
    {
        int ihl = 20 + optionBytes;
        var p = new byte[ihl + l4.Length];
        p[0] = (byte)(0x40 | (ihl / 4));
        p[1] = tos;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)p.Length);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(4), id);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(6), flagsAndOffset);
        p[8] = ttl;
        p[9] = protocol;
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(12), source);
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(16), destination);
        p.AsSpan(20, optionBytes).Fill(1); // NOPs
        l4.CopyTo(p.AsSpan(ihl));
        FixIpChecksum(p);
        return p;
    }

    /// <summary>A TCPv4 packet with valid IP and TCP checksums (32-byte TCP header with timestamps unless told).</summary>
    public static byte[] Tcp(uint source, uint destination, uint seq, uint ack, byte flags, ReadOnlySpan<byte> payload,
        byte ttl = 64, ushort id = 0x1234, ushort sourcePort = 40000, ushort destinationPort = 5201, int tcpLength = TcpWithTimestamps)
    {
        var l4 = new byte[tcpLength + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(l4, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(l4.AsSpan(2), destinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(l4.AsSpan(4), seq);
        BinaryPrimitives.WriteUInt32BigEndian(l4.AsSpan(8), ack);
        l4[12] = (byte)((tcpLength / 4) << 4);
        l4[13] = flags;
        BinaryPrimitives.WriteUInt16BigEndian(l4.AsSpan(14), 502); // window
        if (tcpLength >= 32)
        {
            l4[20] = 1;
            l4[21] = 1;
            l4[22] = 8;
            l4[23] = 10;
            BinaryPrimitives.WriteUInt32BigEndian(l4.AsSpan(24), 0x01020304); // TSval
            BinaryPrimitives.WriteUInt32BigEndian(l4.AsSpan(28), 0x0A0B0C0D); // TSecr
        }
        payload.CopyTo(l4.AsSpan(tcpLength));
        var p = Ipv4(Ipv4Protocol.Tcp, source, destination, l4, ttl, id);
        FixL4Checksum(p);
        return p;
    }

    public static byte[] Udp(uint source, uint destination, ushort sourcePort, ushort destinationPort, ReadOnlySpan<byte> payload,
        byte ttl = 64, ushort id = 0x1234, ushort flagsAndOffset = DontFragment)
    {
        var l4 = new byte[8 + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(l4, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(l4.AsSpan(2), destinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(l4.AsSpan(4), (ushort)l4.Length);
        payload.CopyTo(l4.AsSpan(8));
        var p = Ipv4(Ipv4Protocol.Udp, source, destination, l4, ttl, id, flagsAndOffset);
        FixL4Checksum(p);
        return p;
    }

    /// <summary>An ICMP echo request (the kind of packet no ICMP error may be sent about).</summary>
    public static byte[] IcmpEcho(uint source, uint destination, byte ttl = 64)
    {
        var l4 = new byte[16];
        l4[0] = 8;
        BinaryPrimitives.WriteUInt16BigEndian(l4.AsSpan(2), ReferenceChecksum(l4));
        return Ipv4(Ipv4Protocol.Icmp, source, destination, l4, ttl);
    }

    /// <summary>A minimal IPv6 packet (what the kernel writes into a TUN for router solicitations).</summary>
    public static byte[] Ipv6(int payloadLength = 16)
    {
        var p = new byte[40 + payloadLength];
        p[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(4), (ushort)payloadLength);
        p[6] = 58; // ICMPv6
        p[7] = 255;
        return p;
    }

    /// <summary>The 10-byte little-endian virtio_net_hdr followed by <paramref name="packet"/>.</summary>
    public static byte[] Frame(ReadOnlySpan<byte> packet, byte flags = 0, byte gsoType = 0, ushort hdrLen = 0, ushort gsoSize = 0,
        ushort csumStart = 0, ushort csumOffset = 0)
    {
        var f = new byte[10 + packet.Length];
        f[0] = flags;
        f[1] = gsoType;
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(2), hdrLen);
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(4), gsoSize);
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(6), csumStart);
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(8), csumOffset);
        packet.CopyTo(f.AsSpan(10));
        return f;
    }

    public static uint Seq(ReadOnlySpan<byte> packet) => BinaryPrimitives.ReadUInt32BigEndian(packet[(HeaderLength(packet) + 4)..]);

    public static ushort Id(ReadOnlySpan<byte> packet) => BinaryPrimitives.ReadUInt16BigEndian(packet[4..]);

    public static int TotalLength(ReadOnlySpan<byte> packet) => BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);

    public static ushort L4ChecksumField(ReadOnlySpan<byte> packet) =>
        BinaryPrimitives.ReadUInt16BigEndian(packet[(HeaderLength(packet) + (packet[9] == 6 ? 16 : 6))..]);
}

internal static class Ipv4Protocol
{
    public const byte Icmp = 1;
    public const byte Tcp = 6;
    public const byte Udp = 17;
}
