namespace AnomalyZT.Silo.Cluster.Bus;

/// <summary>One batch delivered from a partition queue.</summary>
/// <param name="Partition">The partition (queue) it came from.</param>
/// <param name="Body">The batch bytes, copied out of the client's buffer: the handler may keep them.</param>
/// <param name="BatchId">The publisher's batch id (AMQP message id); empty if the publisher set none.</param>
/// <param name="DeliveryTag">The subscription's tag for <see cref="PartitionSubscription.AckUpToAsync"/>. It increases
/// within a subscription across reconnects (it is not the broker's raw tag, which restarts per channel).</param>
/// <param name="Redelivered">The broker delivered it before (to this or another consumer) without an ack: it may have
/// been applied already.</param>
/// <param name="Generation">Which registration of the subscription received it (a number unique on the bus); a lost
/// connection or channel starts a new one, and deliveries of an older one can no longer be acked (the broker hands them
/// out again).</param>
public readonly record struct BusDelivery(int Partition, ReadOnlyMemory<byte> Body, string BatchId, ulong DeliveryTag, bool Redelivered, int Generation);
