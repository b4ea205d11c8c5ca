using Peft.Tensors;
using Peft.Transformers.Configuration;
using Peft.Transformers.SafeTensors;
using Peft.Tuners.Adapters;

namespace Peft.Tuners.MultitaskPromptTuning;

/// <summary>
/// Multitask prompt tuning: a shared prompt [virtual, hidden] modulated per task by a rank-r
/// product, prompt_t = prompt ⊙ (cols[t] · rows[t]) with cols [tasks, virtual, r] and rows
/// [tasks, r, hidden]; each batch row picks its task by id. PEFT's keys: <c>prompt_embeddings</c>,
/// <c>prefix_task_cols</c>, <c>prefix_task_rows</c>.
/// </summary>
public sealed class MultitaskPromptTuningAdapter : IVirtualTokenAdapter
{
    /// <summary>The method's registration (<see cref="PeftMethods"/>).</summary>
    public static PeftMethod Method { get; } = PeftMethod.Of<MultitaskPromptTuningConfig>("MULTITASK_PROMPT_TUNING",
        (config, model, seed, tokenize) => Create(config, model.Config, model.TokenEmbeddings, seed, tokenize),
        (folder, model, warn) => Load(folder, model.Config, model.TokenEmbeddings, warn));

    private MultitaskPromptTuningAdapter(MultitaskPromptTuningConfig config, ModelConfig model, Tensor prompt, Tensor cols, Tensor rows)
    {
        Config = config;
        Model = model;
        Prompt = prompt;
        TaskCols = cols;
        TaskRows = rows;
    }

    /// <summary>The settings.</summary>
    public MultitaskPromptTuningConfig Config { get; }

    IPeftConfig IPeftAdapter.Config => Config;

    /// <summary>The base model's config.</summary>
    public ModelConfig Model { get; }

    /// <inheritdoc/>
    public int NumVirtualTokens => Config.NumVirtualTokens;

    /// <summary>Number of tasks.</summary>
    public int NumTasks => Config.NumTasks;

    /// <summary>Rank of each task's modulation.</summary>
    public int NumRanks => Config.NumRanks;

    /// <inheritdoc/>
    public bool NeedsTaskIds => true;

    /// <summary>The shared prompt [virtual, hidden].</summary>
    public Tensor Prompt { get; }

    /// <summary>Per-task column factors [tasks, virtual, ranks].</summary>
    public Tensor TaskCols { get; }

    /// <summary>Per-task row factors [tasks, ranks, hidden].</summary>
    public Tensor TaskRows { get; }

    /// <inheritdoc/>
    public IEnumerable<Tensor> Parameters => [Prompt, TaskCols, TaskRows];

    /// <summary>
    /// Creates a fresh adapter: prompt N(0, 1) (or the init text's token embeddings), factors
    /// N(0, 0.02²) as PEFT initializes them, or values from a source adapter's weights file.
    /// </summary>
    /// <param name="config">The settings.</param>
    /// <param name="model">The base model's config.</param>
    /// <param name="tokenEmbeddings">The base model's token embeddings (TEXT init reads rows of it).</param>
    /// <param name="seed">Seed of the random initialization.</param>
    /// <param name="tokenize">The model's tokenizer, needed for TEXT init.</param>
    public static MultitaskPromptTuningAdapter Create(MultitaskPromptTuningConfig config, ModelConfig model, Tensor tokenEmbeddings, ulong seed = 0,
        Func<string, IReadOnlyList<int>>? tokenize = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(tokenEmbeddings);
        int d = config.Resolve(model);
        int v = config.NumVirtualTokens, tasks = config.NumTasks, ranks = config.NumRanks;
        var random = new SeededRandom(seed);
        var prompt = config.PromptTuningInit == MultitaskPromptTuningInit.Text
            ? Tensor.Parameter(TextInitialization.Rows(config.PromptTuningInitText, v, tokenize, tokenEmbeddings), new Shape(v, d), "prompt_embeddings")
            : TensorInit.Normal(new Shape(v, d), 0, 1, random, "prompt_embeddings");
        var cols = TensorInit.Normal(new Shape(tasks, v, ranks), 0, 0.02f, random, "prefix_task_cols");
        var rows = TensorInit.Normal(new Shape(tasks, ranks, d), 0, 0.02f, random, "prefix_task_rows");
        if (config.PromptTuningInit is MultitaskPromptTuningInit.AverageSourceTasks or MultitaskPromptTuningInit.ExactSourceTask
            or MultitaskPromptTuningInit.OnlySourceShared)
            InitializeFromSource(config, prompt, cols, rows);
        return new MultitaskPromptTuningAdapter(config, model, prompt, cols, rows);
    }

    private static void InitializeFromSource(MultitaskPromptTuningConfig config, Tensor prompt, Tensor cols, Tensor rows)
    {
        string path = config.PromptTuningInitStateDictPath
            ?? throw new AdapterConfigException($"Multitask prompt tuning config: 'prompt_tuning_init' is {config.PromptTuningInit} " +
                "but 'prompt_tuning_init_state_dict_path' is not set; name the source adapter's adapter_model.safetensors.");
        if (!File.Exists(path)) throw new FileNotFoundException(
            $"Multitask prompt tuning config: 'prompt_tuning_init_state_dict_path' {path} does not exist.", path);
        using var source = SafeTensorsFile.Open(path);
        Read(source, path, "prompt_embeddings", prompt.Shape, prompt.Span);
        if (config.PromptTuningInit == MultitaskPromptTuningInit.OnlySourceShared) return;
        var sourceCols = source.Contains("prefix_task_cols") ? source.GetInfo("prefix_task_cols").Shape : throw Missing(path, "prefix_task_cols");
        int sourceTasks = sourceCols[0];
        int perTaskCols = cols.Length / config.NumTasks, perTaskRows = rows.Length / config.NumTasks;
        var allCols = new float[sourceTasks * perTaskCols];
        var allRows = new float[sourceTasks * perTaskRows];
        Read(source, path, "prefix_task_cols", new Shape(sourceTasks, cols.Shape[1], cols.Shape[2]), allCols);
        Read(source, path, "prefix_task_rows", new Shape(sourceTasks, rows.Shape[1], rows.Shape[2]), allRows);
        float[] oneCols, oneRows;
        if (config.PromptTuningInit == MultitaskPromptTuningInit.ExactSourceTask)
        {
            int task = config.PromptTuningInitTask;
            if ((uint)task >= (uint)sourceTasks)
                throw new AdapterConfigException($"Multitask prompt tuning config: 'prompt_tuning_init_task' is {task} " +
                    $"but the source adapter has {sourceTasks} tasks (0..{sourceTasks - 1}).");
            oneCols = allCols.AsSpan(task * perTaskCols, perTaskCols).ToArray();
            oneRows = allRows.AsSpan(task * perTaskRows, perTaskRows).ToArray();
        }
        else
        {
            oneCols = Mean(allCols, sourceTasks);
            oneRows = Mean(allRows, sourceTasks);
        }
        for (int t = 0; t < config.NumTasks; t++)
        {
            oneCols.CopyTo(cols.Span.Slice(t * perTaskCols));
            oneRows.CopyTo(rows.Span.Slice(t * perTaskRows));
        }
    }

    private static float[] Mean(float[] perTask, int tasks)
    {
        int n = perTask.Length / tasks;
        var mean = new float[n];
        for (int i = 0; i < n; i++)
        {
            double sum = 0;
            for (int t = 0; t < tasks; t++) sum += perTask[t * n + i];
            mean[i] = (float)(sum / tasks);
        }
        return mean;
    }

    private static void Read(SafeTensorsFile file, string path, string key, Shape expected, Span<float> destination)
    {
        if (!file.Contains(key)) throw Missing(path, key);
        var info = file.GetInfo(key);
        if (!info.Shape.AsSpan().SequenceEqual(expected.ToArray()))
            throw new InvalidDataException($"{path}: source tensor '{key}' has shape {info.ShapeText} but this adapter needs {expected}.");
        file.ReadFloat32(key, destination);
    }

    private static InvalidDataException Missing(string path, string key) =>
        new($"{path}: the source adapter has no tensor '{key}' (is it a multitask prompt tuning adapter?).");

    /// <summary>Loads PEFT's MULTITASK_PROMPT_TUNING adapter folder.</summary>
    public static MultitaskPromptTuningAdapter Load(string folder, ModelConfig model, Tensor tokenEmbeddings, Action<string>? warn = null)
    {
        MultitaskPromptTuningConfig config;
        using (var doc = AdapterFiles.ReadConfig(folder, "MULTITASK_PROMPT_TUNING"))
            config = MultitaskPromptTuningConfig.FromJson(doc.RootElement, warn);
        // The stored values replace the initialization, so files made with any init load.
        var adapter = Create(config with { PromptTuningInit = MultitaskPromptTuningInit.Random }, model, tokenEmbeddings);
        AdapterFiles.ReadWeights(folder, adapter.Parameters);
        return new MultitaskPromptTuningAdapter(config, model, adapter.Prompt, adapter.TaskCols, adapter.TaskRows);
    }

    /// <inheritdoc/>
    public AdapterFileContents FileContents() => new(Config.ToJson(Model), [.. Parameters]);

    /// <inheritdoc/>
    public Tensor VirtualTokens(int batch, IntTensor? taskIds)
    {
        if (taskIds is null) throw new ArgumentException("A multitask prompt tuning adapter needs task_ids (one per row).", nameof(taskIds));
        if (taskIds.Length != batch) throw new ArgumentException($"task_ids has {taskIds.Length} entries for a batch of {batch}.", nameof(taskIds));
        return VirtualTokens(taskIds);
    }

    /// <summary>Per-row virtual tokens [batch, virtual, hidden] for the given task ids (differentiable).</summary>
    public Tensor VirtualTokens(IntTensor taskIds)
    {
        ArgumentNullException.ThrowIfNull(taskIds);
        if (taskIds.Shape.Rank != 1) throw new ArgumentException($"task_ids must be [batch]; got {taskIds.Shape}.", nameof(taskIds));
        taskIds.CheckRange("task_ids", NumTasks);
        int batch = taskIds.Length, v = NumVirtualTokens, r = NumRanks, d = Prompt.Shape[1];
        var cols = Ops.Reshape(Ops.Embedding(taskIds, Ops.Reshape(TaskCols, NumTasks, v * r)), batch, v, r);
        var rows = Ops.Reshape(Ops.Embedding(taskIds, Ops.Reshape(TaskRows, NumTasks, r * d)), batch, r, d);
        return Ops.Multiply(Ops.MatMul(cols, rows), Prompt);
    }
}
