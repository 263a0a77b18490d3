using System.Globalization;

namespace AnomalyZT.Silo.Samples;

/// <summary>One <c>inventory.json</c> entry: every address in <see cref="Cidr"/> belongs to <see cref="Node"/>.</summary>
/// <param name="Cidr">An address (<c>10.0.1.11</c>) or a network (<c>10.244.0.0/24</c>).</param>
/// <param name="Node">Node name, as the GPU samples' <c>Hostname</c> label names it.</param>
internal sealed record SampleInventoryEntry(string Cidr, string Node);

// The platform: per copy ("group") four GPU nodes, a data node and an API gateway, with host and pod addresses.
public static partial class SampleGenerator
{
    /// <summary>Cluster DNS (CoreDNS service).</summary>
    private const string DnsIp = "10.0.0.2";

    /// <summary>Kubernetes API server.</summary>
    private const string ApiServerIp = "10.0.0.1";

    /// <summary>NTP server.</summary>
    private const string NtpIp = "10.0.0.3";

    /// <summary>S3-compatible object store (datasets, checkpoints, model weights).</summary>
    private const string ObjectStoreIp = "10.0.9.10";

    /// <summary>Container image registry.</summary>
    private const string ImageRegistryIp = "10.0.9.20";

    private enum NodeRole
    {
        Training,
        Standby,
        Inference,
        Data,
        Gateway,
    }

    private sealed class NodeInfo(string name, NodeRole role, string hostIp, string podPrefix)
    {
        public string Name { get; } = name;

        public NodeRole Role { get; } = role;

        public string HostIp { get; } = hostIp;

        /// <summary>The node's pod network, e.g. <c>10.244.3.0/24</c>.</summary>
        public string PodCidr => podPrefix + "0/24";

        /// <summary>A pod address on this node.</summary>
        public string PodIp(int host) => podPrefix + host.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>One copy of the platform. Group 0 has the plain names (gpu-node-01..04, data-node-01, api-gw,
    /// namespace ml-train, alice@corp.example); later groups number theirs.</summary>
    private sealed class Group
    {
        public Group(int index)
        {
            Index = index;
            Suffix = index == 0 ? string.Empty : "-" + (index + 1).ToString("D2", CultureInfo.InvariantCulture);
            var block = (index / 60).ToString(CultureInfo.InvariantCulture);
            var slot = index % 60;
            var nodes = new NodeInfo[6];
            NodeRole[] gpuRoles = [NodeRole.Training, NodeRole.Training, NodeRole.Standby, NodeRole.Inference];
            for (var j = 0; j < 4; j++)
            {
                var name = "gpu-node-" + (4 * index + j + 1).ToString("D2", CultureInfo.InvariantCulture);
                nodes[j] = new NodeInfo(name, gpuRoles[j], $"10.{block}.1.{11 + 4 * slot + j}", PodPrefix(6 * index + j));
            }

            nodes[4] = new NodeInfo("data-node-" + (index + 1).ToString("D2", CultureInfo.InvariantCulture), NodeRole.Data,
                $"10.{block}.2.{21 + slot}", PodPrefix(6 * index + 4));
            nodes[5] = new NodeInfo("api-gw" + Suffix, NodeRole.Gateway, $"10.{block}.3.{5 + slot}", PodPrefix(6 * index + 5));
            Nodes = nodes;
        }

        public int Index { get; }

        /// <summary>"" for group 0, "-02", "-03", … after.</summary>
        public string Suffix { get; }

        /// <summary>gpu-node ×4 (training, training, standby, inference), data node, API gateway.</summary>
        public NodeInfo[] Nodes { get; }

        public NodeInfo Training0 => Nodes[0];

        public NodeInfo Training1 => Nodes[1];

        public NodeInfo Standby => Nodes[2];

        public NodeInfo Inference => Nodes[3];

        public NodeInfo Data => Nodes[4];

        public NodeInfo Gateway => Nodes[5];

        /// <summary>A namespace of this group: <c>ml-train</c>, <c>ml-train-02</c>, …</summary>
        public string Ns(string name) => name + Suffix;

        /// <summary>A SPIFFE id of a service account of this group.</summary>
        public string Spiffe(string ns, string serviceAccount) => $"spiffe://cluster.local/ns/{Ns(ns)}/sa/{serviceAccount}";

        /// <summary>A person of this group: <c>alice@corp.example</c>, <c>alice-02@corp.example</c>, …</summary>
        public string Person(string local) => local + Suffix + "@corp.example";

        /// <summary>The VPN address of person <paramref name="k"/> of this group.</summary>
        public string VpnIp(int k) => $"10.8.{Index % 250}.{14 + 10 * k}";

        private static string PodPrefix(int node) => $"10.{244 + node / 256}.{node % 256}.";
    }

    private sealed class Topology
    {
        public Topology(int scale)
        {
            Groups = new Group[scale];
            for (var g = 0; g < scale; g++)
            {
                Groups[g] = new Group(g);
            }
        }

        public Group[] Groups { get; }

        /// <summary>Host address and pod network of every node, in group and node order.</summary>
        public SampleInventoryEntry[] Inventory()
        {
            var entries = new List<SampleInventoryEntry>(Groups.Length * 12);
            foreach (var group in Groups)
            {
                foreach (var node in group.Nodes)
                {
                    entries.Add(new SampleInventoryEntry(node.HostIp, node.Name));
                    entries.Add(new SampleInventoryEntry(node.PodCidr, node.Name));
                }
            }

            return [.. entries];
        }
    }
}
