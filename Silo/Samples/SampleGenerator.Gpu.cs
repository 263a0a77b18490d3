using System.Globalization;

namespace AnomalyZT.Silo.Samples;

// dcgm-exporter GPU samples as flat JSON, and the schedule of distributed training jobs the GPU samples and the
// flows between training nodes share.
public static partial class SampleGenerator
{
    private const string GpuModel = "NVIDIA H100 80GB HBM3";
    private const long ScrapeMicros = 5 * MinuteMicros;
    private static readonly string[] JobModels = ["resnet50", "vit-b16", "bert-base", "llama-7b-lora", "whisper-small", "clip-vit-l14"];

    /// <summary>A training job spread over both training nodes of a group (worker-0 and worker-1).</summary>
    private sealed record TrainingJob(long FromUs, long ToUs, string Name, double Util, double MemMiB);

    private sealed class JobPlan
    {
        private readonly TrainingJob[][] _jobs;

        public JobPlan(Random rng, Topology topology, long startUs, int hours)
        {
            var endUs = startUs + hours * HourMicros;
            _jobs = new TrainingJob[topology.Groups.Length][];
            for (var g = 0; g < _jobs.Length; g++)
            {
                var jobs = new List<TrainingJob>();
                // The first job started before the set does; jobs run 2-6 h with 10-30 min between them. Sizes stay
                // within a factor of 1.4 of each other, so no job looks like an outlier against the others.
                var t = startUs - rng.NextInt64(30 * MinuteMicros, 3 * HourMicros);
                while (t < endUs)
                {
                    var length = rng.NextInt64(2 * HourMicros, 6 * HourMicros);
                    var model = JobModels[rng.Next(JobModels.Length)];
                    var name = (model.Contains("lora", StringComparison.Ordinal) ? "finetune-" : "train-") + model + "-" + KubeSuffix(rng, 5);
                    jobs.Add(new TrainingJob(t, t + length, name, 74 + 14 * rng.NextDouble(), 52_000 + 18_000 * rng.NextDouble()));
                    t += length + rng.NextInt64(10 * MinuteMicros, 30 * MinuteMicros);
                }

                _jobs[g] = [.. jobs];
            }
        }

        /// <summary>The job running in group <paramref name="group"/> at <paramref name="us"/>, or null in a gap.</summary>
        public TrainingJob? At(int group, long us)
        {
            var jobs = _jobs[group];
            int lo = 0, hi = jobs.Length - 1;
            while (lo <= hi)
            {
                var mid = (lo + hi) >>> 1;
                if (jobs[mid].ToUs <= us)
                {
                    lo = mid + 1;
                }
                else if (jobs[mid].FromUs > us)
                {
                    hi = mid - 1;
                }
                else
                {
                    return jobs[mid];
                }
            }

            return null;
        }
    }

    private sealed class GpuSource
    {
        private readonly Random _rng;
        private readonly Topology _topology;
        private readonly IncidentSchedule _schedule;
        private readonly JobPlan _jobs;
        private readonly string[][] _uuids;
        private readonly string[][] _servingPods;

        public GpuSource(Random rng, Topology topology, IncidentSchedule schedule, JobPlan jobs)
        {
            _rng = rng;
            _topology = topology;
            _schedule = schedule;
            _jobs = jobs;
            _uuids = new string[topology.Groups.Length * 4][];
            _servingPods = new string[topology.Groups.Length][];
            for (var g = 0; g < topology.Groups.Length; g++)
            {
                for (var n = 0; n < 4; n++)
                {
                    _uuids[4 * g + n] = ["GPU-" + Uuid(rng), "GPU-" + Uuid(rng)];
                }

                _servingPods[g] =
                [
                    $"triton-resnet50-{KubeSuffix(rng, 9)}-{KubeSuffix(rng, 5)}",
                    $"vllm-llama-7b-{KubeSuffix(rng, 9)}-{KubeSuffix(rng, 5)}",
                ];
            }
        }

        public void Emit(long bucketUs, LineBuffer output)
        {
            foreach (var group in _topology.Groups)
            {
                for (var n = 0; n < 4; n++)
                {
                    var node = group.Nodes[n];
                    // Each node's exporter is scraped on its own phase, every five minutes.
                    var phase = (7 + 11 * n + group.Index % 30) * SecondMicros;
                    for (var us = bucketUs + phase; us < bucketUs + BucketMicros; us += ScrapeMicros)
                    {
                        for (var gpu = 0; gpu < 2; gpu++)
                        {
                            Sample(output, us, group, node, n, gpu);
                        }
                    }
                }
            }
        }

        private void Sample(LineBuffer output, long us, Group group, NodeInfo node, int n, int gpu)
        {
            double util, mem;
            string? pod = null, ns = null;
            switch (node.Role)
            {
                case NodeRole.Training when _jobs.At(group.Index, us) is { } job:
                    util = job.Util + 3.5 * Gaussian(_rng);
                    mem = job.MemMiB + 250 * Gaussian(_rng);
                    pod = job.Name + "-worker-" + n.ToString(CultureInfo.InvariantCulture);
                    ns = group.Ns("ml-train");
                    break;
                case NodeRole.Inference:
                    // Serving load follows the day; the pods stay put.
                    util = (gpu == 0 ? 40 : 50) * Diurnal(us, 0.3) + 3 * Gaussian(_rng);
                    mem = (gpu == 0 ? 28_400 : 71_200) + 120 * Gaussian(_rng);
                    pod = _servingPods[group.Index][gpu];
                    ns = group.Ns("ml-serve");
                    break;
                case NodeRole.Standby when group.Index == 0 && _schedule.Mining is { } mining && mining.Contains(us):
                    util = 98 + 2.2 * _rng.NextDouble();
                    mem = 5_150 + 150 * _rng.NextDouble();
                    break;
                default:
                    util = 0;
                    mem = 0;
                    break;
            }

            var utilPct = (int)Math.Clamp(Math.Round(util), 0, 100);
            var power = utilPct == 0 ? 68 + 6 * _rng.NextDouble() : 95 + 4.6 * utilPct + 12 * Gaussian(_rng);
            var w = output.BeginJson();
            w.WriteStartObject();
            w.WriteString("timestamp", IsoSeconds(us));
            w.WriteString("Hostname", node.Name);
            w.WriteString("gpu", gpu == 0 ? "0" : "1");
            w.WriteString("UUID", _uuids[4 * group.Index + n][gpu]);
            w.WriteString("modelName", GpuModel);
            w.WriteNumber("DCGM_FI_DEV_GPU_UTIL", utilPct);
            w.WriteNumber("DCGM_FI_DEV_FB_USED", (long)Math.Max(0, Math.Round(mem)));
            w.WriteNumber("DCGM_FI_DEV_POWER_USAGE", Math.Round(power, 1));
            if (pod is not null && ns is not null)
            {
                w.WriteString("pod", pod);
                w.WriteString("namespace", ns);
            }

            w.WriteEndObject();
            output.EndJson(us);
        }
    }
}
