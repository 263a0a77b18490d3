using System.Buffers;
using System.Text;
using AnomalyZT.Ingest.Syslog;

namespace AnomalyZT.Tests.Ingest.Syslog;

/// <summary>Seeded mutation tests: truncated, bit-flipped, spliced and random inputs never throw or hang, the framer
/// never buffers past its bound, and every input is counted exactly once as accepted, rejected or ignored.</summary>
public sealed class SyslogMutationTests
{
    private const int Iterations = 100_000;

    private static readonly string[] Corpus =
    [
        "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \uFEFF'su root' failed for lonvick on /dev/pts/8",
        "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.",
        "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"][examplePriority@32473 class=\"high\"]",
        "<13>1 - h a - - [x@1 k=\"q\\\"b\\\\s\\]e\"] m",
        "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
        "<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!",
        "<13>Nov 22 13:59:22 alice[4242]: hello",
        "<38>2026-11-22T13:59:22.123456+01:00 web01 sshd[1234]: Accepted publickey for bob from 10.1.2.3 port 50022 ssh2: ED25519 SHA256:x",
        "<38>Nov 22 2024 13:59:22.250 host sshd[9]: Failed password for invalid user admin from 2001:db8::9 port 22 ssh2",
        "<38>Nov 22 13:59:22 h sshd[1]: Invalid user oracle from 198.51.100.7 port 41000",
        "<86>Nov 22 13:59:22 h sshd[1]: pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)",
        "<86>1 2026-11-22T13:59:22Z h sshd-session 1 - - pam_unix(sshd:session): session closed for user alice",
        "<38>Nov 22 13:59:22 h sshd-auth[1]: Connection closed by authenticating user root 192.0.2.44 port 50514 [preauth]",
    ];

    private static readonly byte[] Interesting = "<>[]\"\\= :-.T Z+0123456789\n\r\u00ef\u00bb\u00bfNovsshd"u8.ToArray();

    [Fact]
    public void Parse_MutatedMessages_NeverThrowAndEveryInputCounted()
    {
        var random = new Random(5424);
        var parser = new SyslogMessageParser(new FixedClock(new DateTimeOffset(2026, 11, 22, 14, 0, 0, TimeSpan.Zero)));
        var mapper = new SshdAuthMapper();
        long accepted = 0, rejected = 0, mapped = 0, ignored = 0;
        for (var i = 0; i < Iterations; i++)
        {
            var input = Mutate(random, Encoding.UTF8.GetBytes(Corpus[random.Next(Corpus.Length)]));
            var result = parser.Parse(input);
            if (result.Accepted)
            {
                accepted++;
                if (mapper.Map(result.Record!).Mapped)
                {
                    mapped++;
                }
                else
                {
                    ignored++;
                }
            }
            else
            {
                Assert.False(string.IsNullOrEmpty(result.Reason));
                rejected++;
            }
        }

        Assert.Equal(Iterations, accepted + rejected);
        Assert.Equal(accepted, mapped + ignored);
        Assert.Equal((accepted, rejected), (parser.Accepted, parser.Rejected));
        Assert.Equal((mapped, ignored), (mapper.Mapped, mapper.Ignored));

        // The mutations must exercise both outcomes and every stage.
        Assert.True(accepted > Iterations / 10 && rejected > Iterations / 10, $"{accepted} accepted, {rejected} rejected");
        Assert.True(mapped > 1000 && ignored > 1000, $"{mapped} mapped, {ignored} ignored");
    }

    [Fact]
    public void TryRead_MutatedStreamsInRandomChunks_NeverThrowBoundedAndCounted()
    {
        var random = new Random(6587);
        var parser = new SyslogMessageParser(new FixedClock(new DateTimeOffset(2026, 11, 22, 14, 0, 0, TimeSpan.Zero)));
        long streams = 0, messages = 0, rejections = 0;
        while (streams < Iterations)
        {
            var counted = random.Next(2) == 0;
            var stream = new List<byte>();
            var frames = random.Next(1, 6);
            for (var f = 0; f < frames; f++)
            {
                var body = Encoding.UTF8.GetBytes(Corpus[random.Next(Corpus.Length)]);
                stream.AddRange(counted ? Encoding.ASCII.GetBytes($"{body.Length} ") : []);
                stream.AddRange(body);
                if (!counted)
                {
                    stream.Add((byte)'\n');
                }
            }

            var mutated = Mutate(random, [.. stream]);
            streams++;

            var framer = new SyslogFraming(maxMessageSize: random.Next(2) == 0 ? 64 : 512);
            var chunks = Enumerable.Range(0, mutated.Length + 1).Select(_ => random.Next(1, 40)).ToArray();
            var rejected = 0;
            var results = FramingHarness.Run(
                framer,
                mutated,
                chunks,
                payload =>
                {
                    Assert.True(payload.Length <= 512);
                    parser.Parse(payload);
                },
                reason =>
                {
                    Assert.False(string.IsNullOrEmpty(reason));
                    rejected++;
                });

            Assert.Equal(framer.Messages + framer.Rejections, results.Count);
            Assert.Equal(framer.Rejections, rejected);
            messages += framer.Messages;
            rejections += framer.Rejections;
        }

        Assert.Equal(messages, parser.Accepted + parser.Rejected);
        Assert.True(messages > streams && rejections > 1000, $"{streams} streams, {messages} messages, {rejections} rejections");
    }

    /// <summary>One of: unchanged, truncated, bit flips, byte replacements from interesting bytes, splice of a random
    /// range, random bytes.</summary>
    private static byte[] Mutate(Random random, byte[] input)
    {
        switch (random.Next(6))
        {
            case 0:
                return input;
            case 1:
                return input[..random.Next(input.Length + 1)];
            case 2:
                for (var k = random.Next(1, 6); k > 0 && input.Length > 0; k--)
                {
                    input[random.Next(input.Length)] ^= (byte)(1 << random.Next(8));
                }

                return input;
            case 3:
                for (var k = random.Next(1, 6); k > 0 && input.Length > 0; k--)
                {
                    input[random.Next(input.Length)] = Interesting[random.Next(Interesting.Length)];
                }

                return input;
            case 4:
                var from = random.Next(input.Length + 1);
                var to = random.Next(from, input.Length + 1);
                return [.. input[..from], .. input[to..], .. input[from..to]];
            default:
                var noise = new byte[random.Next(0, 200)];
                random.NextBytes(noise);
                return noise;
        }
    }
}
