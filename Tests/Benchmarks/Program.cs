using BenchmarkDotNet.Running;

namespace AnomalyZT.Benchmarks;

internal static class BenchmarkEntry
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "syslog-load")
        {
            return SyslogLoad.RunAsync(args).GetAwaiter().GetResult();
        }

        if (args.Length > 0 && args[0] == "netflow-load")
        {
            return NetFlowLoad.RunAsync(args).GetAwaiter().GetResult();
        }

        if (args.Length > 0 && args[0] == "http-load")
        {
            return HttpLoad.RunAsync(args).GetAwaiter().GetResult();
        }

        if (args.Length > 0 && args[0] == "state-size")
        {
            StateSize.Print(Console.Out);
            DefaultDetectors.PrintStateSizes(Console.Out);
            return 0;
        }

        BenchmarkSwitcher.FromAssembly(typeof(BenchmarkEntry).Assembly).Run(args);
        return 0;
    }
}
