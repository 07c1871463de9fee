using Flannel.Backends.Packets;

namespace Flannel.Backends.Tests.Packets;

/// <summary>
/// The fast checksum adds native 32-bit halves of 64-bit words and swaps once at the end; these tests pin it to the
/// plain RFC 1071 definition (big-endian 16-bit words, odd last byte padded) across every tail length and alignment.
/// </summary>
[Unit]
public class InternetChecksumTests
{
    [Fact]
    public void Sum_and_Compute_match_the_reference_for_every_length_0_to_200_and_every_alignment()
    {
        var random = new Random(1071);
        var buffer = new byte[200 + 8];
        for (int length = 0; length <= 200; length++)
        {
            // The unrolled loop reads 32, 4, 2 and 1 byte chunks: every length mod 32 and every start alignment
            // reaches a different combination of them.
            for (int start = 0; start < 8; start++)
            {
                random.NextBytes(buffer);
                var data = buffer.AsSpan(start, length);
                ushort expected = TestPacket.ReferenceSum(data);
                Assert.Equal(expected, InternetChecksum.Sum(data));
                Assert.Equal((ushort)~expected, InternetChecksum.Compute(data));
            }
        }
    }

    [Theory]
    [InlineData(1500)]
    [InlineData(9001)]
    [InlineData(65535)]
    [InlineData(65536)]
    [InlineData(1 << 20)]
    public void Sum_matches_the_reference_on_large_random_buffers(int length)
    {
        var data = TestPacket.Random(new Random(length), length);
        Assert.Equal(TestPacket.ReferenceSum(data), InternetChecksum.Sum(data));
    }

    [Theory]
    [InlineData(0x00)]
    [InlineData(0xFF)]
    public void Sum_matches_the_reference_on_constant_buffers_that_stress_carries(byte value)
    {
        // All 0xFF is the worst case for end-around carries; all zero must stay 0 (not 0xFFFF).
        for (int length = 0; length <= 70000; length += 6999)
        {
            var data = new byte[length];
            Array.Fill(data, value);
            Assert.Equal(TestPacket.ReferenceSum(data), InternetChecksum.Sum(data));
        }
    }

    [Fact]
    public void Initial_is_added_like_one_more_word_sum()
    {
        var random = new Random(791);
        uint[] special = [0, 1, 0xFFFF, 0x10000, 0x1FFFE, 0xFFFFFFFF, 0x80000000];
        for (int i = 0; i < 2000; i++)
        {
            uint initial = i < special.Length ? special[i] : (uint)random.NextInt64(0, 1L << 32);
            var data = TestPacket.Random(random, random.Next(0, 120));
            ushort expected = TestPacket.ReferenceSum(data, initial);
            Assert.Equal(expected, InternetChecksum.Sum(data, initial));
            Assert.Equal((ushort)~expected, InternetChecksum.Compute(data, initial));
        }
    }

    [Fact]
    public void Initial_on_empty_data_is_just_folded()
    {
        Assert.Equal(0, InternetChecksum.Sum([], 0));
        Assert.Equal(0x1234, InternetChecksum.Sum([], 0x1234));
        Assert.Equal(0x0001, InternetChecksum.Sum([], 0x10000));
        Assert.Equal(0xFFFF, InternetChecksum.Sum([], 0xFFFFFFFF));
    }

    [Fact]
    public void PseudoHeaderSum_adds_addresses_protocol_and_length_as_words()
    {
        byte[] addresses = [10, 6, 93, 1, 10, 6, 200, 1];
        uint expected = 0x0A06u + 0x5D01 + 0x0A06 + 0xC801 + 6 + 1032;
        Assert.Equal(expected, InternetChecksum.PseudoHeaderSum(addresses, 6, 1032));
    }

    [Fact]
    public void Fold_adds_carries_back_until_16_bits_remain()
    {
        Assert.Equal(0u, InternetChecksum.Fold(0));
        Assert.Equal(0xFFFFu, InternetChecksum.Fold(0xFFFF));
        Assert.Equal(1u, InternetChecksum.Fold(0x10000));
        Assert.Equal(0xFFFFu, InternetChecksum.Fold(0xFFFFFFFFFFFFFFFF));
        Assert.Equal(0x0001u + 0x2345 + 0x6789, InternetChecksum.Fold(0x0001_2345_6789UL));
    }

    [Fact]
    public void Update_equals_a_full_recompute_after_changing_one_word()
    {
        // RFC 1624 eqn. 3 must agree with recomputing from scratch; data of 4+ random words is never all zero, the one
        // case where the two legitimately differ (+0 vs -0).
        var random = new Random(1624);
        ushort[] special = [0x0000, 0xFFFF, 0x0001, 0xFFFE, 0x8000];
        for (int i = 0; i < 100_000; i++)
        {
            int words = random.Next(4, 40);
            var data = TestPacket.Random(random, words * 2);
            int k = random.Next(words) * 2;
            ushort oldWord = (ushort)((data[k] << 8) | data[k + 1]);
            ushort newWord = (ushort)(i % 10 < special.Length ? special[i % 10] : random.Next(0x10000));
            if (i % 50 == 0)
            {
                newWord = oldWord; // no change must give the same checksum back
            }
            ushort before = InternetChecksum.Compute(data);
            data[k] = (byte)(newWord >> 8);
            data[k + 1] = (byte)newWord;
            ushort after = TestPacket.ReferenceChecksum(data);
            Assert.Equal(after, InternetChecksum.Update(before, oldWord, newWord));
        }
    }
}
