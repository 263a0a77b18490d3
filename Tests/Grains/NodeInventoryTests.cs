using AnomalyZT.Grains.Runtime;

namespace AnomalyZT.Tests.Grains;

public sealed class NodeInventoryTests
{
    [Fact]
    public void Resolve_LongestPrefixWins()
    {
        var inv = new NodeInventory([
            new InventoryEntry { Cidr = "10.0.0.0/16", Node = "dc" },
            new InventoryEntry { Cidr = "10.0.3.0/24", Node = "gpu-rack-3" },
            new InventoryEntry { Cidr = "10.0.3.17", Node = "gpu-node-17" },
        ]);
        Assert.Equal("gpu-node-17", inv.Resolve("10.0.3.17"));
        Assert.Equal("gpu-rack-3", inv.Resolve("10.0.3.18"));
        Assert.Equal("dc", inv.Resolve("10.0.9.1"));
        Assert.Null(inv.Resolve("192.0.2.1"));
        Assert.Null(inv.Resolve("not-an-ip"));
    }

    [Fact]
    public void Resolve_Ipv6MappedAndCatchAll_MatchAsListed()
    {
        var inv = new NodeInventory([
            new InventoryEntry { Cidr = "0.0.0.0/0", Node = "internet-v4" },
            new InventoryEntry { Cidr = "2001:db8:10::/48", Node = "v6-pod" },
            new InventoryEntry { Cidr = "2001:db8:10::7", Node = "v6-host" },
            new InventoryEntry { Cidr = "10.0.3.0/24", Node = "gpu-rack-3" },
            new InventoryEntry { Cidr = "10.0.3.0/24", Node = "listed-second" },
        ]);
        Assert.Equal("v6-host", inv.Resolve("2001:db8:10::7"));
        Assert.Equal("v6-pod", inv.Resolve("2001:db8:10:ffff::1"));
        Assert.Null(inv.Resolve("2001:db8:11::1"));
        Assert.Equal("gpu-rack-3", inv.Resolve("::ffff:10.0.3.9"));
        Assert.Equal("internet-v4", inv.Resolve("203.0.113.5"));
        Assert.Null(inv.Resolve(new string('1', 46)));
    }

    [Fact]
    public void Resolve_ManyDistinctAddresses_StaysCorrect()
    {
        var entries = Enumerable.Range(0, 256).Select(i => new InventoryEntry { Cidr = $"10.77.{i}.0/24", Node = $"n{i}" }).ToList();
        var inv = new NodeInventory(entries);
        for (var a = 0; a < 200_000; a += 7)
        {
            var third = (a >> 8) & 0xFF;
            Assert.Equal($"n{third}", inv.Resolve($"10.77.{third}.{a & 0xFF}"));
            Assert.Null(inv.Resolve($"10.99.{third}.{a & 0xFF}"));
        }
    }

    [Fact]
    public void Resolve_EmptyInventory_PrivateAddressesAreTheirOwnNodes()
    {
        var inv = new NodeInventory([]);
        Assert.Equal("10.1.2.3", inv.Resolve("10.1.2.3"));
        Assert.Equal("192.168.0.9", inv.Resolve("::ffff:192.168.0.9"));
        Assert.Null(inv.Resolve("8.8.8.8"));
    }

    [Fact]
    public void Constructor_BadCidr_NamesTheEntry()
    {
        var ex = Assert.Throws<ArgumentException>(() => new NodeInventory([new InventoryEntry { Cidr = "10.0.0.0/33", Node = "x" }]));
        Assert.Contains("Inventory[0].Cidr is '10.0.0.0/33'", ex.Message, StringComparison.Ordinal);
    }
}
