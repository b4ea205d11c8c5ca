using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Peft.Tensors;
using Peft.Tensors.Optimizers;
using Peft.Transformers.Configuration;
using Peft.Transformers.Generation;
using Peft.Transformers.Loading;
using Peft.Transformers.Models;
using Peft.Tuners.Adapters;
using Peft.Tuners.Ia3;
using Peft.Tuners.Lora;
using Peft.Tuners.PeftModels;
using Peft.Tuners.PrefixTuning;
using Peft.Tuners.PromptTuning;
using Peft.Tuners.PTuning;
using Peft.Tuners.Training;

namespace Peft.Benchmarks;

/// <summary>
/// How well each PEFT method learns the same small task on the same frozen base, after the same
/// number of steps: <c>dotnet run -c Release --project bench/Peft.Benchmarks -- quality [steps]</c>.
/// The base is a 4-layer byte-level GPT-2-shaped model pretrained here on generated sentences; the
/// task maps 32 made-up names to colours ("kavo=teal."), a mapping found only in the training rows.
/// Each method gets the best of three learning rates (by evaluation loss); reported: training loss over the last tenth of the steps, evaluation loss
/// and greedy exact-match accuracy of the colour after "name=".
/// </summary>
internal static class AdapterQuality
{
    private static readonly string[] Colours =
        ["red", "teal", "gold", "navy", "pink", "grey", "lime", "plum", "rose", "sand", "jade", "ruby", "snow", "mint", "rust", "wine"];

    public static void Run(string[] args)
    {
        int steps = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 300;
        var clock = Stopwatch.StartNew();
        var model = Pretrain(out float pretrainLoss);
        Console.WriteLine(
            $"pretrained base: {model.Parameters.ElementCount:N0} parameters, final LM loss {pretrainLoss:F3} ({clock.Elapsed.TotalSeconds:F0} s)");

        var random = new SeededRandom(5);
        var names = new List<string>();
        while (names.Count < 32)
        {
            string name = Syllable(random) + Syllable(random);
            if (!names.Contains(name)) names.Add(name);
        }
        var mapping = names.ToDictionary(n => n, _ => Colours[random.NextInt(Colours.Length)]);
        var train = new List<TrainingExample>();
        for (int repeat = 0; repeat < 4; repeat++)
            foreach (string name in names) train.Add(Row(name, mapping[name]));
        var evaluation = names.Select(n => Row(n, mapping[n])).ToList();

        IPeftConfig[] methods =
        [
            new PromptTuningConfig { NumVirtualTokens = 16 },
            new PTuningConfig { NumVirtualTokens = 16, EncoderHiddenSize = 128 },
            new PTuningConfig { NumVirtualTokens = 16, EncoderHiddenSize = 64, EncoderReparameterizationType = PromptEncoderReparameterizationType.Lstm },
            new PrefixTuningConfig { NumVirtualTokens = 16 },
            new PrefixTuningConfig { NumVirtualTokens = 16, PrefixProjection = true, EncoderHiddenSize = 128 },
            new PrefixTuningConfig { NumVirtualTokens = 16, Initialization = PrefixInitialization.Zero },
            new PrefixTuningConfig { NumVirtualTokens = 16, Initialization = PrefixInitialization.Text, InitText = "the colour of a thing is a word. " },
            new LoraConfig { R = 8, LoraAlpha = 16, TargetModules = TargetModules.FromNames("c_attn", "c_fc") },
            new Ia3Config { TargetModules = TargetModules.FromNames("c_attn", "mlp.c_proj"), FeedforwardModules = TargetModules.FromNames("mlp.c_proj") },
        ];
        float[] rates = [3e-3f, 1e-2f, 3e-2f];
        Console.WriteLine($"task: {names.Count} names -> colours, {train.Count} training rows, {steps} steps of batch 16, " +
            $"best of learning rates {string.Join(", ", rates)}");
        Console.WriteLine("| method | trainable params | best lr | final train loss | eval loss | exact match | ms/step |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var config in methods)
        {
            (float Rate, float Train, double Eval, double Accuracy, double MsPerStep, long Params)? best = null;
            foreach (float rate in rates)
            {
                var peft = new PeftModel(model);
                peft.AddAdapter("task", config, seed: 1, tokenize: text => Encoding.ASCII.GetBytes(text).Select(b => (int)b).ToArray());
                var trainer = new Trainer(peft, new TrainerOptions
                {
                    MaxSteps = steps, BatchSize = 16, LearningRate = rate, WarmupRatio = 0.05f, Schedule = LearningRateScheduleKind.Linear,
                    LogEverySteps = Math.Max(1, steps / 10),
                });
                var timer = Stopwatch.StartNew();
                var result = trainer.Train(train);
                double msPerStep = timer.Elapsed.TotalMilliseconds / steps;
                double evalLoss = trainer.Evaluate(evaluation).Loss;
                double accuracy = Accuracy(peft, names, mapping);
                if (best is null || evalLoss < best.Value.Eval)
                    best = (rate, result.FinalLoss, evalLoss, accuracy, msPerStep, peft.CountParameters().Trainable);
                peft.DeleteAdapter("task");
            }
            var b = best!.Value;
            Console.WriteLine($"| {Describe(config)} | {b.Params:N0} | {b.Rate:G2} | {b.Train:F3} | {b.Eval:F3} | {b.Accuracy:P0} | {b.MsPerStep:F1} |");
        }
        Console.WriteLine($"total {clock.Elapsed.TotalSeconds:F0} s");
    }

    private static string Describe(IPeftConfig config) => config switch
    {
        PromptTuningConfig p => $"prompt tuning ({p.NumVirtualTokens} tokens)",
        PTuningConfig p => $"P-tuning {p.EncoderReparameterizationType} ({p.NumVirtualTokens} tokens)",
        PrefixTuningConfig p => $"prefix tuning{(p.PrefixProjection ? " + projection" : "")}, " +
            $"{p.Initialization.ToString().ToLowerInvariant()} init ({p.NumVirtualTokens} tokens)",
        LoraConfig l => $"LoRA r={l.R}",
        Ia3Config => "IA3",
        _ => config.PeftType,
    };

    private static TrainingExample Row(string name, string colour)
    {
        var ids = Encoding.ASCII.GetBytes($"{name}={colour}.").Select(b => (int)b).ToArray();
        int start = name.Length + 1;
        // Loss only on the colour and the full stop: the input row "name=" is the question.
        var labels = ids.Select((id, t) => t >= start ? id : -100).ToArray();
        return new TrainingExample(ids, labels);
    }

    private static double Accuracy(PeftModel model, List<string> names, Dictionary<string, string> mapping)
    {
        int right = 0;
        foreach (string name in names)
        {
            var prompt = Encoding.ASCII.GetBytes(name + "=").Select(b => (int)b).ToArray();
            var output = model.Generate(IntTensor.FromArray(prompt, 1, prompt.Length), null, new GenerationOptions { MaxNewTokens = 6, EosTokenIds = ['.'] });
            string text = Encoding.ASCII.GetString(output.ToArray().Skip(prompt.Length).Select(i => (byte)i).ToArray());
            if (text == mapping[name] + ".") right++;
        }
        return (double)right / names.Count;
    }

    private static string Syllable(SeededRandom random) => "bdgklmnprstvz"[random.NextInt(13)].ToString() + "aeiou"[random.NextInt(5)];

    /// <summary>Trains the whole base on generated byte-level sentences so it is a language model worth steering.</summary>
    private static CausalLanguageModel Pretrain(out float loss)
    {
        var config = ModelConfig.Parse(new JsonObject
        {
            ["model_type"] = "gpt2", ["vocab_size"] = 128, ["n_embd"] = 128, ["n_layer"] = 4, ["n_head"] = 4,
            ["n_positions"] = 64, ["eos_token_id"] = 0, ["bos_token_id"] = 0, ["pad_token_id"] = 0,
        }.ToJsonString(), "quality benchmark base");
        var model = ModelLoader.CreateCausal(config);
        ModelInitializer.InitializeRandom(model.Parameters, seed: 3);
        model.Parameters.SetRequiresGrad(true);
        string[] subjects = ["the cat", "a dog", "my friend", "the sky", "this car", "her hat", "the sea", "a bird"];
        string[] verbs = ["is", "looks", "seems", "was"];
        var random = new SeededRandom(9);
        var corpus = new StringBuilder();
        while (corpus.Length < 60_000)
        {
            int kind = random.NextInt(3);
            string word = Syllable(random) + Syllable(random);
            corpus.Append(kind switch
            {
                0 => $"{subjects[random.NextInt(subjects.Length)]} {verbs[random.NextInt(verbs.Length)]} {Colours[random.NextInt(Colours.Length)]}. ",
                1 => $"{word}={Colours[random.NextInt(Colours.Length)]}. ",
                _ => $"{word} {verbs[random.NextInt(verbs.Length)]} {word}. ",
            });
        }
        var bytes = Encoding.ASCII.GetBytes(corpus.ToString());
        var optimizer = new AdamW(model.Parameters.All.Select(p => p.Tensor), 3e-3f, weightDecay: 0f);
        const int steps = 600, batch = 16, length = 48;
        var schedule = LearningRateSchedule.Cosine(3e-3f, 20, steps);
        loss = float.NaN;
        for (int step = 0; step < steps; step++)
        {
            var ids = new int[batch * length];
            for (int b = 0; b < batch; b++)
            {
                int start = random.NextInt(bytes.Length - length);
                for (int t = 0; t < length; t++) ids[b * length + t] = bytes[start + t];
            }
            var input = IntTensor.FromArray(ids, batch, length);
            using var scope = new TensorScope();
            optimizer.LearningRate = schedule.LearningRateAt(step);
            optimizer.ZeroGrad();
            var output = model.Forward(inputIds: input, labels: input);
            output.Loss!.Backward();
            GradientClipping.ClipGlobalNorm(optimizer.Parameters, 1f);
            optimizer.Step();
            loss = output.Loss.Item();
        }
        model.Parameters.SetRequiresGrad(false);
        return model;
    }
}
