using AnomalyZT.Silo.Cli;
using AnomalyZT.Silo.Hosting;

if (args.Length > 0 && CliCommands.IsCommand(args[0]))
{
    return await CliCommands.RunAsync(args).ConfigureAwait(false);
}

var app = SiloHost.Build(args);
await app.RunAsync().ConfigureAwait(false);
return 0;
