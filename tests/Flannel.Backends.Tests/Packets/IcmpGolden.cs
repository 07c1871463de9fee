namespace Flannel.Backends.Tests.Packets;

/// <summary>
/// The compat §6 observation as bytes: a UDP probe 10.6.93.1:40000 → 10.6.200.1:53 with no route, answered from the TUN
/// address 10.6.93.0 with "ICMP net 10.6.200.1 unreachable". Checksums were computed independently (Python, RFC 1071).
/// </summary>
internal static class IcmpGolden
{
    public const string TunAddress = "10.6.93.0";

    /// <summary>IPv4 (id 0xBEEF, DF, TTL 64, UDP) + UDP header + the 12 payload bytes "0123456789ab".</summary>
    public static byte[] Offender() => Convert.FromHexString(
        "45000028BEEF4000401142C70A065D010A06C801" + "9C4000350014C3D5" + "303132333435363738396162");

    /// <summary>
    /// IPv4 (len 56, id 0, no DF, TTL 8, ICMP, 10.6.93.0 → 10.6.93.1) + ICMP type 3 code 0 + 4 unused bytes + the
    /// offender's 20-byte header and its first 8 bytes after it (the UDP header).
    /// </summary>
    public static byte[] Reply() => Convert.FromHexString(
        "45000038000000000801E4B80A065D000A065D01" + "03009CA000000000" +
        "45000028BEEF4000401142C70A065D010A06C801" + "9C4000350014C3D5");
}
