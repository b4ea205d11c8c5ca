using System.CommandLine;
using Peft.Transformers.Loading;

namespace Peft.Cli.Commands;

/// <summary>
/// <c>peft generate</c>: text generation streamed to stdout from <c>--prompt</c> or a JSONL
/// <c>--input</c> (<see cref="TextGeneration"/>), or, with <c>--inputs IN.safetensors</c>, the
/// original tensor mode (<see cref="TensorGeneration"/>): greedy ids laid out as HF's
/// <c>generate().sequences</c> written to a safetensors file.
/// </summary>
internal sealed class GenerateCommand : CliCommand
{
    private readonly Option<string> _model = CliOptions.Model();
    private readonly Option<string[]> _adapters = CliOptions.Adapters();
    private readonly Option<string> _quantize = CliOptions.Quantize();
    private readonly Option<string> _prompt = new("--prompt") { Description = "text to continue", HelpName = "TEXT" };
    private readonly Option<string> _input = new("--input") { Description = "JSONL of {\"prompt\": ...} lines (or text/source); one output line per input line", HelpName = "FILE.jsonl" };
    private readonly Option<string> _inputs = new("--inputs") { Description = "tensor mode: safetensors with input_ids [, attention_mask, task_ids]", HelpName = "IN.safetensors" };
    private readonly Option<string> _out = new("--out") { Description = "tensor mode: safetensors to write the sequences to", HelpName = "OUT.safetensors" };
    private readonly Option<bool> _greedy = new("--greedy") { Description = "take the most likely token (the default unless a sampling option is given; tensor mode requires it)" };
    private readonly Option<int?> _maxNewTokens = CliOptions.OptionalInt("--max-new-tokens", "new tokens per output at most (default 128; tensor mode 20)");
    private readonly Option<float> _temperature = CliOptions.Float("--temperature", "sample with this temperature (> 0)", 1f, float.Epsilon);
    private readonly Option<int?> _topK = CliOptions.OptionalInt("--top-k", "sample from the k most likely tokens");
    private readonly Option<float> _topP = CliOptions.Float("--top-p", "sample from the smallest set of tokens reaching probability p, in (0, 1]", 1f, float.Epsilon);
    private readonly Option<ulong> _seed = new("--seed") { Description = "seed of the sampler (sampled output is reproducible)", HelpName = "N" };
    private readonly Option<string[]> _stop = new("--stop") { Description = "stop once the output contains this text (not printed); repeatable", HelpName = "TEXT" };
    private readonly Option<int?> _taskId = CliOptions.OptionalInt("--task-id", "task id for a multitask prompt tuning adapter", minimum: 0);
    private readonly Option<bool> _noCache = new("--no-cache") { Description = "recompute every position each step (same output, slower)" };
    private readonly Option<bool> _stats = new("--stats") { Description = "print load time, prompt processing and decoding speed to stderr" };

    public override string Name => "generate";

    public override string Description => "Generate text from a prompt (streamed), or greedy ids from a safetensors file of token ids (--inputs).";

    public override string Example => "peft generate --model ./gpt2 --adapter ./my-lora --prompt \"Once upon a time\" --max-new-tokens 64 --stats";

    public override int Order => 20;

    protected override void Define(Command command)
    {
        foreach (var option in new Option[]
        {
            _model, _adapters, _prompt, _input, _maxNewTokens, _greedy, _temperature, _topK, _topP, _seed, _stop, _taskId, _quantize, _noCache, _stats,
            _inputs, _out,
        })
            command.Options.Add(option);
    }

    protected override int Execute(ParseResult result, CliContext context)
    {
        int? maxNewTokens = result.GetValue(_maxNewTokens);
        if (result.GetValue(_inputs) is not null || Given(result, _out))
        {
            if (!result.GetValue(_greedy))
                throw new UsageException("generate: only greedy decoding is available from the command line; pass --greedy.");
            var inputs = ModelInputs.Read(Required(result, _inputs));
            string output = Required(result, _out);
            var loaded = LoadedModel.Load(Name, Required(result, _model), result.GetValue(_adapters) ?? [], null, context.Error);
            return TensorGeneration.Run(loaded, inputs, output, maxNewTokens ?? 20, !result.GetValue(_noCache), result.GetValue(_stats), context.Error);
        }
        string? prompt = result.GetValue(_prompt), input = result.GetValue(_input);
        if ((prompt is null) == (input is null)) throw new UsageException("generate: give exactly one of --prompt TEXT, --input FILE.jsonl and --inputs IN.safetensors.");
        if (input is not null && !File.Exists(input)) throw new UsageException($"generate: input file not found: {input}");
        bool sample = !result.GetValue(_greedy) && (Given(result, _temperature) || Given(result, _topK) || Given(result, _topP) || Given(result, _seed));
        var settings = new TextGeneration.Settings
        {
            MaxNewTokens = maxNewTokens ?? 128,
            DoSample = sample,
            Temperature = result.GetValue(_temperature),
            TopK = result.GetValue(_topK) ?? 0,
            TopP = result.GetValue(_topP),
            Seed = result.GetValue(_seed),
            Stop = result.GetValue(_stop) ?? [],
            UseCache = !result.GetValue(_noCache),
            TaskId = result.GetValue(_taskId),
            Stats = result.GetValue(_stats),
        };
        var model = LoadedModel.Load(Name, Required(result, _model), result.GetValue(_adapters) ?? [],
            new LoadOptions { Quantization = CliOptions.Format(result.GetValue(_quantize)) }, context.Error);
        return new TextGeneration(model, settings, context).Run(prompt, input);
    }
}
