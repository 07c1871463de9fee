using System.Text;
using Flannel.Subnet.Config;
using Flannel.Subnet.Leases;

namespace Flannel.Subnet.Tests.Properties;

/// <summary>
/// The smallest inputs the parser properties found that throw something other than the documented exception
/// (a JSON escape of a lone surrogate, valid JSON text that Go's decoder reads as U+FFFD). Kept as plain cases so
/// each one is visible on its own.
/// </summary>
[Unit]
public class KnownCounterexamples
{
    [Theory]
    [InlineData("{\"\\udc00\":0}")]                   // unknown key: the name is read to look it up
    [InlineData("{\"Network\":\"\\ud800\"}")]         // a string value
    [InlineData("{\"Network\":\"10.0.0.0/8\",\"Backend\":{\"Type\":\"\\ud800\"}}")]
    [InlineData("{\"Network\":\"10.0.0.0/8\",\"Backend\":{\"\\ud800\":1}}")]
    public void Config_parser_throws_only_NetworkConfigException(string json)
    {
        try
        {
            NetworkConfigParser.Parse(json);
        }
        catch (NetworkConfigException)
        {
        }
    }

    [Fact]
    public void Config_parser_throws_only_NetworkConfigException_for_a_raw_lone_surrogate()
    {
        // A .NET string not decoded from UTF-8 (attribute data cannot carry a lone surrogate, so it is built here).
        string json = "{\"Network\":\"10.0.0.0/8\"}" + (char)0xD800;
        try
        {
            NetworkConfigParser.Parse(json);
        }
        catch (NetworkConfigException)
        {
        }
    }

    [Theory]
    [InlineData("{\"\\ud800\":null}")]
    [InlineData("{\"PublicIP\":\"\\ud800\"}")]
    [InlineData("{\"PublicIP\":\"1.2.3.4\",\"BackendType\":\"\\ud800\"}")]
    public void Lease_decoder_throws_only_LeaseDecodeException(string json)
    {
        try
        {
            LeaseAttrs.FromJson(Encoding.UTF8.GetBytes(json));
        }
        catch (LeaseDecodeException)
        {
        }
    }

    [Theory]
    [InlineData("{\"PublicIP\":\"1.2.3.4\",\"BackendData\":\"~\"}")]
    [InlineData("{\"PublicIP\":\"~\"}")]
    [InlineData("{\"~\":1}")]
    public void Lease_decoder_throws_only_LeaseDecodeException_on_invalid_UTF8(string json)
    {
        // etcd values are bytes: '~' stands for a 0xFF byte, never valid in UTF-8.
        byte[] utf8 = Encoding.ASCII.GetBytes(json);
        for (int i = 0; i < utf8.Length; i++)
        {
            if (utf8[i] == (byte)'~')
            {
                utf8[i] = 0xFF;
            }
        }
        try
        {
            LeaseAttrs.FromJson(utf8);
        }
        catch (LeaseDecodeException)
        {
        }
    }

    [Theory]
    [InlineData("{\"PublicIP\":\"1.2.3.4\",\"BackendData\":{\"a\":\"\\ud800\"}}")]
    [InlineData("{\"PublicIP\":\"1.2.3.4\",\"BackendData\":{\"\\udc00\":1}}")]
    public void A_decoded_lease_encodes_again(string json)
    {
        // Either refused as undecodable (a lone surrogate is not text) or accepted and writable again; never a lease
        // that breaks when it is written.
        LeaseAttrs lease;
        try
        {
            lease = LeaseAttrs.FromJson(Encoding.UTF8.GetBytes(json));
        }
        catch (LeaseDecodeException)
        {
            return;
        }
        string written = lease.ToJson();
        Assert.Equal(written, LeaseAttrs.FromJson(Encoding.UTF8.GetBytes(written)).ToJson());
    }
}
