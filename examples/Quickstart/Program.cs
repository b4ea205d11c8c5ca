// Quickstart: pretrains a small GPT-2-shaped model on an embedded text with the managed engine
// (AdamW, pooled step memory), then does the library's job: freezes it, trains a LoRA adapter
// with the Trainer on a small task, saves it in Hugging Face PEFT's files, loads it back
// and generates with a key/value cache. It runs on the embedded defaults with no arguments;
// `--steps N` changes the pretraining length. It keeps what it makes in ./quickstart-output (the
// pretrained base as a Hugging Face model folder and the LoRA adapter as a PEFT folder), replaced
// on every run, and prints where that is.
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Peft.Tensors;
using Peft.Tensors.Optimizers;
using Peft.Transformers.Configuration;
using Peft.Transformers.Generation;
using Peft.Transformers.Loading;
using Peft.Transformers.Models;
using Peft.Transformers.Models.Gpt2;
using Peft.Tuners.PeftModels;
using Peft.Tuners.Adapters;
using Peft.Tuners.Lora;
using Peft.Tuners.Training;

int steps = 200;
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--steps" && i + 1 < args.Length && int.TryParse(args[i + 1], out int s) && s > 0) { steps = s; i++; }
    else
    {
        Console.Error.WriteLine($"error: unknown argument '{args[i]}'. Usage: Quickstart [--steps N]");
        return 2;
    }
}

const string Text =
    "the quick brown fox jumps over the lazy dog. " +
    "a parameter efficient fine tuning library trains small adapters on a frozen model. " +
    "prompt tuning, prefix tuning and lora each add a few weights and leave the rest alone. ";
byte[] corpus = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(Text, 4)));

// Bytes are the tokens: vocabulary 256, no tokenizer needed.
var config = ModelConfig.Parse(new JsonObject
{
    ["model_type"] = "gpt2", ["vocab_size"] = 256, ["n_embd"] = 64, ["n_layer"] = 2, ["n_head"] = 4,
    ["n_positions"] = 128, ["eos_token_id"] = 0, ["bos_token_id"] = 0, ["pad_token_id"] = 0,
}.ToJsonString(), "embedded quickstart config");
var model = new Gpt2Model(config);
ModelInitializer.InitializeRandom(model.Parameters, seed: 42);
model.Parameters.SetRequiresGrad(true);
var optimizer = new AdamW(model.Parameters.All.Select(p => p.Tensor), learningRate: 3e-3f, weightDecay: 0f);
var schedule = LearningRateSchedule.Cosine(3e-3f, warmupSteps: 10, totalSteps: steps);

Console.WriteLine($"Training a {model.Parameters.ElementCount:N0}-parameter GPT-2-shaped model for {steps} steps on {corpus.Length} bytes of embedded text.");
const int batch = 8, length = 64;
var random = new Random(7);
var clock = Stopwatch.StartNew();
float loss = float.NaN;
for (int step = 0; step < steps; step++)
{
    var ids = new int[batch * length];
    for (int b = 0; b < batch; b++)
    {
        int start = random.Next(corpus.Length - length);
        for (int t = 0; t < length; t++) ids[b * length + t] = corpus[start + t];
    }
    var input = IntTensor.FromArray(ids, batch, length);
    using (new TensorScope())
    {
        optimizer.LearningRate = schedule.LearningRateAt(step);
        var output = model.Forward(inputIds: input, labels: input);
        optimizer.ZeroGrad();
        output.Loss!.Backward();
        GradientClipping.ClipGlobalNorm(optimizer.Parameters, 1f);
        optimizer.Step();
        loss = output.Loss.Item();
    }
    if (step % 20 == 0 || step == steps - 1)
    {
        double tokensPerSecond = (step + 1) * (double)batch * length / clock.Elapsed.TotalSeconds;
        Console.WriteLine($"step {step + 1,4}/{steps}  loss {loss,7:F4}  lr {optimizer.LearningRate:E2}  {tokensPerSecond,8:F0} tok/s");
    }
}

string prompt = "the quick brown ";
var promptIds = IntTensor.FromArray(Encoding.ASCII.GetBytes(prompt).Select(b => (int)b).ToArray(), 1, prompt.Length);
var generated = new CausalGenerator(model).GenerateGreedy(promptIds, null, new GenerationOptions { MaxNewTokens = 48 });
string continuation = Encoding.ASCII.GetString(generated.ToArray().Skip(prompt.Length).Select(i => (byte)i).ToArray());
Console.WriteLine($"final loss {loss:F4}; greedy continuation of \"{prompt}\": \"{continuation}\"");

// What the run makes is kept for a look afterwards (`peft inspect quickstart-output/colours-lora`); a previous run's
// folder goes first so nothing stale stays. The base is saved before the adapter attaches to it.
string outputFolder = Path.GetFullPath("quickstart-output");
if (Directory.Exists(outputFolder)) Directory.Delete(outputFolder, recursive: true);
ModelLoader.Save(model, Path.Combine(outputFolder, "base"));

// The PEFT part: the base is frozen; a LoRA adapter learns to answer "colour of <thing>?".
string[] things = ["sky", "grass", "snow", "sun", "sea", "rose"];
string[] colours = ["blue", "green", "white", "yellow", "teal", "red"];
int[] Bytes(string text) => Encoding.ASCII.GetBytes(text).Select(b => (int)b).ToArray();
var rows = new List<TrainingExample>();
for (int i = 0; i < things.Length; i++)
{
    string question = $"colour of {things[i]}? ", answer = $"{colours[i]}.";
    var ids = Bytes(question + answer);
    // Loss only on the answer: the question's labels are -100.
    rows.Add(new TrainingExample(ids, ids.Select((id, t) => t < question.Length ? -100 : id).ToArray()));
}
var peft = new PeftModel(model);
peft.AddAdapter("colours", new LoraConfig { R = 8, LoraAlpha = 16, TargetModules = TargetModules.FromNames("c_attn", "c_fc", "mlp.c_proj") }, seed: 1);
var (trainable, total) = peft.CountParameters();
Console.WriteLine($"LoRA: {trainable:N0} trainable of {total:N0} parameters");
var trainer = new Trainer(peft, new TrainerOptions { Epochs = 150, BatchSize = 6, LearningRate = 1e-2f, WarmupSteps = 10, LogEverySteps = 50 });
trainer.Train(rows, progress: new ConsoleProgress());
string folder = Path.Combine(outputFolder, "colours-lora");
peft.SaveAdapter("colours", folder);
Console.WriteLine($"saved {string.Join(", ", Directory.GetFiles(folder).Select(Path.GetFileName))} to {folder}");

peft.DeleteAdapter("colours");                 // detach it, so the reload below starts from the bare base
var reloaded = new PeftModel(model);
reloaded.LoadAdapter(folder, "colours");
int right = 0;
for (int i = 0; i < things.Length; i++)
{
    var question = Bytes($"colour of {things[i]}? ");
    var output = reloaded.Generate(IntTensor.FromArray(question, 1, question.Length), null, new GenerationOptions { MaxNewTokens = 8, EosTokenIds = ['.'] });
    string answer = Encoding.ASCII.GetString(output.ToArray().Skip(question.Length).Select(i => (byte)i).ToArray());
    if (answer == colours[i] + ".") right++;
    Console.WriteLine($"  colour of {things[i]}? -> {answer}");
}
Console.WriteLine($"reloaded adapter answers {right} of {things.Length} right");
Console.WriteLine($"outputs kept in {outputFolder} (base/: the pretrained model, colours-lora/: the adapter); the next run replaces them");
return 0;

/// <summary>Prints the Trainer's progress reports as they come (on the training thread).</summary>
internal sealed class ConsoleProgress : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress value) =>
        Console.WriteLine(
            $"adapter step {value.Step,3}/{value.TotalSteps}  loss {value.Loss,7:F4}  lr {value.LearningRate:E2}  {value.TokensPerSecond,7:F0} tok/s");
}
