namespace Flannel.Subnet.Tests;

[Unit]
public class SubnetFileTests
{
    [Fact]
    public void Reads_previous_subnet_masked_to_the_network_address()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "FLANNEL_NETWORK=10.5.0.0/16\nFLANNEL_SUBNET=10.5.21.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n");
            var p = SubnetFile.ReadPrevious(path);
            Assert.Equal("10.5.0.0/16", p.Network.ToString());
            Assert.Equal("10.5.21.0/24", p.Subnet.ToString());
            Assert.Null(p.Ipv6Subnet);

            File.WriteAllText(path, "# comment\nexport FLANNEL_SUBNET=\"10.5.22.1/24\"\nFLANNEL_IPV6_SUBNET=fd00:0:0:5::1/64\n");
            p = SubnetFile.ReadPrevious(path);
            Assert.Equal("10.5.22.0/24", p.Subnet.ToString());
            Assert.Equal("fd00:0:0:5::/64", p.Ipv6Subnet.ToString());

            // A list is used only when exactly one entry is valid (flannel HEAD).
            File.WriteAllText(path, "FLANNEL_SUBNET=bogus,10.5.23.1/24\n");
            Assert.Equal("10.5.23.0/24", SubnetFile.ReadPrevious(path).Subnet.ToString());
            File.WriteAllText(path, "FLANNEL_SUBNET=10.5.24.1/24,10.5.23.1/24\n");
            Assert.Null(SubnetFile.ReadPrevious(path).Subnet);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Missing_file_means_no_previous_subnet() =>
        Assert.Equal(PreviousSubnets.None, SubnetFile.ReadPrevious("/nonexistent/flannel/subnet.env"));
}
