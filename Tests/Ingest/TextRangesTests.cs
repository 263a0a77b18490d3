using System.Text;
using AnomalyZT.Ingest.Parsing;

namespace AnomalyZT.Tests.Ingest;

public sealed class TextRangesTests
{
    [Theory]
    [InlineData("By=spiffe://cluster.local/ns/default/sa/reviews;Hash=4a1b9f;Subject=\"\";URI=spiffe://cluster.local/ns/default/sa/productpage", "spiffe://cluster.local/ns/default/sa/productpage")]
    [InlineData("Hash=abc;Subject=\"CN=client,O=Acme;Inc\";URI=spiffe://acme.io/ns/a/sa/b;DNS=client.acme.io", "spiffe://acme.io/ns/a/sa/b")]
    [InlineData("uri=spiffe://x/y", "spiffe://x/y")]
    [InlineData("By=spiffe://gw;URI=spiffe://first,By=spiffe://next;URI=spiffe://second", "spiffe://first")]
    [InlineData("URI=\"spiffe://quoted/sa\";Hash=1", "spiffe://quoted/sa")]
    public void XfccUri_HeaderWithUri_ReturnsFirstElementUri(string header, string expected)
    {
        Assert.Equal(expected, Encoding.UTF8.GetString(TextRanges.XfccUri(Encoding.UTF8.GetBytes(header))));
    }

    [Theory]
    [InlineData("Hash=abc;Subject=\"CN=x\"")]
    [InlineData("Hash=abc,URI=spiffe://second-element-only")]
    [InlineData("")]
    [InlineData("Subject=\"URI=spiffe://inside-quotes\"")]
    public void XfccUri_NoUriInFirstElement_ReturnsEmpty(string header)
    {
        Assert.True(TextRanges.XfccUri(Encoding.UTF8.GetBytes(header)).IsEmpty);
    }

    [Theory]
    [InlineData("10.244.0.9:47526", "10.244.0.9")]
    [InlineData("[2001:db8::1]:443", "2001:db8::1")]
    [InlineData("2001:db8::1", "2001:db8::1")]
    [InlineData("10.0.0.1", "10.0.0.1")]
    [InlineData("[::1]", "::1")]
    public void HostOfAddress_Address_ReturnsHost(string address, string expected)
    {
        Assert.Equal(expected, Encoding.UTF8.GetString(TextRanges.HostOfAddress(Encoding.UTF8.GetBytes(address))));
    }

    [Theory]
    [InlineData("/api/v1/pods?watch=true", "/api/v1/pods")]
    [InlineData("/a#frag", "/a")]
    [InlineData("/plain", "/plain")]
    public void PathWithoutQuery_Path_DropsQuery(string path, string expected)
    {
        Assert.Equal(expected, Encoding.UTF8.GetString(TextRanges.PathWithoutQuery(Encoding.UTF8.GetBytes(path))));
    }

    [Fact]
    public void FirstListEntry_ForwardedFor_ReturnsTrimmedFirst()
    {
        Assert.Equal("203.0.113.7", Encoding.UTF8.GetString(TextRanges.FirstListEntry(" 203.0.113.7 , 10.0.0.1"u8)));
    }
}
