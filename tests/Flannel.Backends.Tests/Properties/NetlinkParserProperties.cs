using System.Buffers.Binary;
using CsCheck;
using Flannel.Backends.Netlink;

namespace Flannel.Backends.Tests.Properties;

/// <summary>
/// Property and fuzz tests (issue 7 item 7) for the netlink readers: whatever the bytes, the message walk, the
/// attribute walk and every rtnetlink message reader throw nothing but their documented <see cref="FormatException"/>.
/// </summary>
[Unit]
public class NetlinkParserProperties
{
    private const long Iterations = 20_000;

    // Message types the readers answer to (NLMSG_ERROR/DONE, RTM_NEWLINK/NEWADDR/NEWROUTE/NEWNEIGH and their DEL).
    private static readonly Gen<ushort> MessageType = Gen.Frequency(
        (8, Gen.OneOfConst<ushort>(2, 3, 16, 17, 20, 21, 24, 25, 28, 29)),
        (1, Gen.UShort));

    // Family header lengths: ifaddrmsg 8, rtmsg/ndmsg 12, ifinfomsg 16, nlmsgerr 20; or anything short.
    private static readonly Gen<byte[]> FamilyHeader = Gen.Frequency(
        (4, Gen.OneOfConst(8, 12, 16, 20).SelectMany(n => Gen.Byte.Array[n])),
        (3, Gen.OneOfConst(8, 12, 16, 20).SelectMany(n => Gen.Select(Gen.Byte.Array[n], Gen.OneOfConst<byte>(0, 2, 7, 10), Gen.Byte[0, 40], (h, family, len) =>
        {
            h[0] = family;   // AF_INET mostly, so the readers go past the family check
            h[1] = len;      // rtm_dst_len / ifa_prefixlen
            return h;
        }))),
        (1, Gen.Byte.Array[0, 24]));

    /// <summary>One attribute's bytes (padded): a plain value of a typical size, a string, or nested attributes.</summary>
    private static Gen<byte[]> Attribute(int depth)
    {
        var flat = Gen.Frequency(
            (4, Gen.OneOfConst(0, 1, 2, 4, 6, 8, 16).SelectMany(n => Gen.Byte.Array[n])),
            (2, Gen.OneOfConst("vxlan", "flannel.1", "eth0", "", "vxlan\0").Select(s => System.Text.Encoding.ASCII.GetBytes(s + "\0"))),
            (1, Gen.Byte.Array[0, 40]));
        var value = depth == 0 ? flat : Gen.Frequency(
            (7, flat),
            (2, Attribute(depth - 1).Array[0, 5].Select(items => items.SelectMany(b => b).ToArray())));
        return Gen.Select(Gen.Frequency((6, Gen.UShort[0, 40]), (1, Gen.UShort)), Gen.Bool, value, (type, nested, v) =>
        {
            var a = new byte[(4 + v.Length + 3) & ~3];
            BinaryPrimitives.WriteUInt16LittleEndian(a, (ushort)(4 + v.Length));
            BinaryPrimitives.WriteUInt16LittleEndian(a.AsSpan(2), (ushort)(type | (nested ? 0x8000 : 0)));
            v.CopyTo(a.AsSpan(4));
            return a;
        });
    }

    private static readonly Gen<byte[]> Message = Gen.Select(MessageType, Gen.UShort, FamilyHeader, Attribute(2).Array[0, 8],
        (type, flags, header, attributes) =>
        {
            int length = 16 + header.Length + attributes.Sum(a => a.Length);
            var m = new byte[length];
            BinaryPrimitives.WriteUInt32LittleEndian(m, (uint)length);
            BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(4), type);
            BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(6), flags);
            header.CopyTo(m.AsSpan(16));
            int at = 16 + header.Length;
            foreach (var a in attributes)
            {
                a.CopyTo(m.AsSpan(at));
                at += a.Length;
            }
            return m;
        });

    /// <summary>Datagrams: well-formed messages (one or several), the same mutated, and random bytes.</summary>
    private static readonly Gen<byte[]> Datagram = Gen.Frequency(
        (3, Message.Array[1, 3].Select(ms => ms.SelectMany(m => m).ToArray())),
        (3, Gen.Select(Message, Gen.Int.Array[1, 4], Gen.Bool, Mutate)),
        (1, Gen.Byte.Array[0, 96]));

    private static byte[] Mutate(byte[] message, int[] edits, bool relabel)
    {
        var m = message.ToList();
        foreach (int e in edits)
        {
            if (m.Count == 0)
            {
                break;
            }
            int at = (int)((uint)e >> 3) % m.Count;
            switch (e & 3)
            {
                case 0:
                    m[at] = (byte)(e >> 24);     // a byte replaced (a length, a type, a value)
                    break;
                case 1:
                    m.RemoveRange(at, m.Count - at); // truncated
                    break;
                case 2:
                    m.RemoveAt(at);
                    break;
                default:
                    m.Insert(at, (byte)(e >> 24));
                    break;
            }
        }
        var bytes = m.ToArray();
        if (relabel && bytes.Length >= 4)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)bytes.Length); // so the attribute walk is reached
        }
        return bytes;
    }

    [Fact]
    public void Message_readers_throw_only_FormatException()
    {
        Datagram.Sample(datagram =>
        {
            try
            {
                foreach (var message in new NetlinkMessageReader(datagram))
                {
                    ReadEverything(message);
                }
            }
            catch (FormatException e)
            {
                Assert.False(string.IsNullOrEmpty(e.Message));
            }
        }, iter: Iterations, print: Convert.ToHexString);
    }

    [Fact]
    public void Each_reader_on_its_own_throws_only_FormatException()
    {
        int accepted = 0;
        // One reader at a time, so an earlier reader's FormatException cannot hide a later one's crash.
        Gen.Select(Gen.Frequency((3, Message), (2, Gen.Select(Message, Gen.Int.Array[1, 3], Gen.Const(true), Mutate))), Gen.Int[0, 9])
            .Sample(t =>
            {
                var (datagram, which) = t;
                try
                {
                    foreach (var message in new NetlinkMessageReader(datagram))
                    {
                        if (ReadOne(message, which))
                        {
                            Interlocked.Increment(ref accepted);
                        }
                    }
                }
                catch (FormatException)
                {
                }
            }, iter: Iterations, print: t => $"{Convert.ToHexString(t.Item1)} reader {t.Item2}");
        // Some messages get all the way through a reader, so the walk beyond the headers is exercised.
        Assert.True(accepted > 100, $"{accepted} messages read");
    }

    [Fact]
    public void Attribute_walk_on_random_bytes_throws_only_FormatException()
    {
        Gen.Byte.Array[0, 64].Sample(bytes =>
        {
            try
            {
                foreach (var a in new NetlinkAttributeReader(bytes))
                {
                    Walk(a, 0);
                }
            }
            catch (FormatException)
            {
            }
        }, iter: Iterations, print: Convert.ToHexString);
    }

    private static void Walk(NetlinkAttribute a, int depth)
    {
        TryGet(a);
        if (depth < 4)
        {
            foreach (var n in a.Nested)
            {
                Walk(n, depth + 1);
            }
        }
    }

    private static void TryGet(NetlinkAttribute a)
    {
        foreach (var get in (ReadOnlySpan<int>)[0, 1, 2, 3, 4, 5])
        {
            try
            {
                _ = get switch
                {
                    0 => a.GetU8(),
                    1 => a.GetU16(),
                    2 => a.GetU32(),
                    3 => (object)a.GetS32(),
                    4 => a.GetIp4(),
                    _ => a.GetString(),
                };
            }
            catch (FormatException)
            {
            }
        }
    }

    private static void ReadEverything(NetlinkMessage message)
    {
        for (int i = 0; i < 10; i++)
        {
            try
            {
                ReadOne(message, i);
            }
            catch (FormatException)
            {
            }
        }
    }

    private static bool ReadOne(NetlinkMessage message, int which)
    {
        switch (which)
        {
            case 0:
                return RtnetlinkMessages.TryReadMainRoute(message, out _);
            case 1:
                RtnetlinkMessages.ReadRoute(message, out _);
                return true;
            case 2:
                return RtnetlinkMessages.TryReadLink(message, out _);
            case 3:
                return RtnetlinkMessages.TryReadAddress(message, out _);
            case 4:
                return RtnetlinkMessages.TryReadNeighbour(message, out _);
            case 5:
                return RtnetlinkMessages.TryReadIpNeighbour(message, out _);
            case 6:
                return RtnetlinkMessages.TryReadFdbEntry(message, out _);
            case 7:
                return RtnetlinkMessages.TryReadVxlan(message, out _);
            case 8:
                NetlinkAck.Read(message);
                return true;
            default:
                foreach (var a in new NetlinkAttributeReader(message.Payload.Length >= 16 ? message.Payload[16..] : message.Payload))
                {
                    Walk(a, 0);
                }
                return false;
        }
    }
}
