using System.Diagnostics;
using System.Globalization;

namespace Peft.MLNet.Benchmarks;

/// <summary>
/// Fit through the plug-in against the engine's load + tokenize + Trainer, alternated in one process so that a change
/// in the machine's load falls on both (BenchmarkDotNet measures one method's iterations, then the other's):
/// <c>dotnet run -c Release --project bench/Peft.MLNet.Benchmarks -- fit-alternating [d128-l4|d768-l12] [rounds]</c>.
/// The same work as <see cref="PluginOverheadBenchmarks"/>' Fit pair, after one warm-up round of each.
/// </summary>
internal static class AlternatingFit
{
    public static void Run(string[] args)
    {
        string size = args.Length > 1 ? args[1] : "d768-l12";
        int rounds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 5;
        var bench = new PluginOverheadBenchmarks { Base = size };
        bench.Setup();
        try
        {
            bench.FitPlugin();
            bench.FitEngine();
            var plugin = new List<double>();
            var engine = new List<double>();
            for (int round = 0; round < rounds; round++)
            {
                var clock = Stopwatch.StartNew();
                bench.FitPlugin();
                plugin.Add(clock.Elapsed.TotalSeconds);
                clock.Restart();
                bench.FitEngine();
                engine.Add(clock.Elapsed.TotalSeconds);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"round {round + 1}: plug-in {plugin[^1]:F3} s, engine {engine[^1]:F3} s, ratio {plugin[^1] / engine[^1]:F3}"));
            }
            double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{size}: median plug-in {Median(plugin):F3} s, engine {Median(engine):F3} s, ratio of medians {Median(plugin) / Median(engine):F3}; " +
                $"median of per-round ratios {Median([.. plugin.Zip(engine, (p, e) => p / e)]):F3}"));
        }
        finally
        {
            bench.Cleanup();
        }
    }
}
