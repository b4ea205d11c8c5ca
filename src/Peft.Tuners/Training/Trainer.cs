using System.Diagnostics;
using Peft.Tensors;
using Peft.Tensors.Optimizers;
using Peft.Transformers.Loading;
using Peft.Transformers.Models;
using Peft.Transformers.Models.Classification;
using Peft.Tuners.Adapters;
using Peft.Tuners.PeftModels;

namespace Peft.Tuners.Training;

/// <summary>
/// Trains the active, trainable adapters of a <see cref="PeftModel"/> (the base stays frozen) with
/// AdamW, warmup and a decay schedule, gradient accumulation and clipping; evaluates loss and
/// perplexity, stops early, reports progress, honours cancellation, and writes checkpoints from
/// which a resumed run reaches exactly the weights an uninterrupted one would.
/// </summary>
/// <remarks>
/// Optimizer step s of a run always sees the same micro-batches (epoch s / stepsPerEpoch of a
/// shuffle seeded by <see cref="TrainerOptions.Seed"/> and the epoch), so resuming needs only the
/// step, the optimizer state and the dropout generators. Rows come from a <see cref="TrainingData"/>
/// read one pass per epoch, so they can stream from storage rather than sit in memory. The loss of a step is the mean over its
/// target tokens, however they are spread over micro-batches and padding.
/// </remarks>
public sealed class Trainer
{
    private TrainingCheckpoint.State? _resumeState;
    private (int Steps, float[][] M, float[][] V)? _resumeOptimizer;
    private AdamW? _optimizer;
    private TrainingCheckpoint.State? _current;

    /// <summary>Creates a trainer for <paramref name="model"/>'s active, trainable adapters.</summary>
    public Trainer(PeftModel model, TrainerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        Model = model;
        Options = options ?? new TrainerOptions();
        Options.Validate();
    }

    /// <summary>The model whose adapters train.</summary>
    public PeftModel Model { get; }

    /// <summary>The settings.</summary>
    public TrainerOptions Options { get; }

    private bool EncoderDecoder => Model.TaskType == ModelTask.Seq2SeqLM;

    private int PadId => Options.PadTokenId ?? Model.BaseModel.Config.PadTokenId ?? 0;

    /// <summary>
    /// Loads a checkpoint written by a run with the same options, data and active adapters; the
    /// next <see cref="Train(TrainingData, TrainingData?, IProgress{TrainingProgress}?, CancellationToken)"/> continues from its step.
    /// </summary>
    /// <exception cref="FileNotFoundException">Not a checkpoint folder.</exception>
    /// <exception cref="InvalidDataException">The checkpoint does not match the trainable adapters (names, shapes) or is corrupt.</exception>
    /// <remarks>
    /// A checkpoint that a killed write left only moved aside is put back first (<see cref="AtomicFolder.Recover"/>); the
    /// leftovers of killed writes are removed, never read.
    /// </remarks>
    public void ResumeFrom(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var (state, steps, m, v) = TrainingCheckpoint.Load(folder, Named());
        if (state.Seed != Options.Seed)
            throw new InvalidDataException($"{folder}: the checkpoint was written with Seed {state.Seed} but these options have {Options.Seed}; " +
                "resume with the same options.");
        _resumeState = state;
        _resumeOptimizer = (steps, m, v);
    }

    /// <summary>Writes a checkpoint of the run in progress (or just finished) to <paramref name="folder"/>.</summary>
    /// <remarks>The folder is replaced whole or not at all, flushed to disk (<see cref="AtomicFolder"/>), so a kill leaves the previous one.</remarks>
    /// <exception cref="InvalidOperationException">No run has started yet.</exception>
    /// <exception cref="WriteFailedException">The disk refused the write (full, read-only, ...); the previous checkpoint is unchanged.</exception>
    public void SaveCheckpoint(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (_optimizer is null || _current is null) throw new InvalidOperationException("Nothing to checkpoint yet: call Train first.");
        TrainingCheckpoint.Save(folder, _current with { RandomStates = RandomStates() }, Named(), _optimizer);
    }

    private List<(string Key, Tensor Tensor)> Named() =>
        Model.NamedTrainableParameters.Select(p => ($"{p.Adapter}/{p.Parameter.Name}", p.Parameter)).ToList();

    private IEnumerable<SeededRandom> DropoutGenerators() =>
        Model.TrainableAdapters.OfType<IHasDropout>().SelectMany(a => a.DropoutGenerators);

    private List<(uint, uint, uint, uint)> RandomStates() => DropoutGenerators().Select(r => r.State).ToList();

    /// <summary>Runs training on rows held in memory.</summary>
    /// <param name="train">Training rows (not empty).</param>
    /// <param name="evaluation">Evaluation rows for loss/perplexity, early stopping and best-weights tracking, or null.</param>
    /// <param name="progress">Receives a report every <see cref="TrainerOptions.LogEverySteps"/> steps and after each evaluation.</param>
    /// <param name="cancellationToken">
    /// Checked between steps; on cancellation a checkpoint is written (when a folder is set) and
    /// <see cref="OperationCanceledException"/> thrown.
    /// </param>
    /// <exception cref="ArgumentException">Empty data, or a bad row (named by index).</exception>
    /// <exception cref="InvalidOperationException">No active adapter is trainable.</exception>
    public TrainingResult Train(IReadOnlyList<TrainingExample> train, IReadOnlyList<TrainingExample>? evaluation = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        return Train(TrainingData.FromList(train), evaluation is null ? null : TrainingData.FromList(evaluation), progress, cancellationToken);
    }

    /// <summary>
    /// Runs training on rows read pass by pass (streamed: only the rows of the current
    /// micro-batches are held, plus whatever the source buffers to shuffle).
    /// </summary>
    /// <param name="train">Training rows (not empty).</param>
    /// <param name="evaluation">Evaluation rows for loss/perplexity, early stopping and best-weights tracking, or null.</param>
    /// <param name="progress">Receives a report every <see cref="TrainerOptions.LogEverySteps"/> steps and after each evaluation.</param>
    /// <param name="cancellationToken">
    /// Checked between steps; on cancellation a checkpoint is written (when a folder is set) and
    /// <see cref="OperationCanceledException"/> thrown.
    /// </param>
    /// <exception cref="ArgumentException">Empty data, or a bad row (named by index).</exception>
    /// <exception cref="InvalidOperationException">No active adapter is trainable.</exception>
    /// <exception cref="InvalidDataException">A pass gave another number of rows than the source's count.</exception>
    public TrainingResult Train(TrainingData train, TrainingData? evaluation = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (train.Count == 0) throw new ArgumentException("The training data is empty; give at least one row.", nameof(train));
        if (evaluation is { Count: 0 })
            throw new ArgumentException("The evaluation data is empty; pass null to train without evaluation.", nameof(evaluation));
        var named = Named();
        if (named.Count == 0)
            throw new InvalidOperationException("No active adapter is trainable: add one with AddAdapter, or load one with trainable: true, and activate it.");
        var parameters = named.Select(p => p.Tensor).ToArray();

        int microPerEpoch = (train.Count + Options.BatchSize - 1) / Options.BatchSize;
        int stepsPerEpoch = (microPerEpoch + Options.GradientAccumulationSteps - 1) / Options.GradientAccumulationSteps;
        int total = Options.MaxSteps ?? Options.Epochs * stepsPerEpoch;
        int warmup = Options.WarmupSteps > 0 ? Math.Min(Options.WarmupSteps, total) : (int)Math.Ceiling(Options.WarmupRatio * total);
        var schedule = Options.Schedule switch
        {
            LearningRateScheduleKind.Constant => LearningRateSchedule.Constant(Options.LearningRate, warmup),
            LearningRateScheduleKind.Cosine => LearningRateSchedule.Cosine(Options.LearningRate, warmup, total),
            _ => LearningRateSchedule.Linear(Options.LearningRate, warmup, total),
        };
        var optimizer = new AdamW(parameters, Options.LearningRate, Options.Beta1, Options.Beta2, Options.Epsilon, Options.WeightDecay);
        var state = new TrainingCheckpoint.State(0, total, Options.Seed, null, null, 0, 0, []);
        if (_resumeState is { } resume && _resumeOptimizer is { } saved)
        {
            if (resume.TotalSteps != total)
                throw new InvalidDataException($"The checkpoint's run has {resume.TotalSteps} steps but these options and data give {total}; " +
                    "resume with the same options and data.");
            state = resume;
            for (int i = 0; i < parameters.Length; i++)
            {
                saved.M[i].CopyTo(optimizer.FirstMoment(i));
                saved.V[i].CopyTo(optimizer.SecondMoment(i));
            }
            optimizer.RestoreStepCount(saved.Steps);
            var generators = DropoutGenerators().ToArray();
            if (generators.Length != resume.RandomStates.Count)
                throw new InvalidDataException($"The checkpoint has {resume.RandomStates.Count} dropout generator states " +
                    $"but the adapters have {generators.Length}.");
            for (int i = 0; i < generators.Length; i++) generators[i].Restore(resume.RandomStates[i]);
            _resumeState = null;
            _resumeOptimizer = null;
        }
        _optimizer = optimizer;
        _current = state;

        float[][]? best = null;
        bool stoppedEarly = false;
        var clock = Stopwatch.StartNew();
        int startStep = state.Step;
        double windowLoss = 0;
        long windowTargets = 0, windowTokens = 0;
        float lastLoss = float.NaN;
        double windowStart = 0;
        bool wasTraining = Model.Training, wasCheckpointing = Model.BaseModel.GradientCheckpointing;
        using var pass = new EpochReader(train, Options.Shuffle ? Options.Seed : null, cancellationToken);
        Model.Training = true;
        Model.BaseModel.GradientCheckpointing = Options.GradientCheckpointing;
        try
        {
            for (int step = state.Step; step < total; step++)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    if (Options.CheckpointFolder is { } folder) SaveCheckpoint(folder);
                    cancellationToken.ThrowIfCancellationRequested();
                }
                int epoch = step / stepsPerEpoch, inEpoch = step % stepsPerEpoch;
                int firstMicro = inEpoch * Options.GradientAccumulationSteps;
                if (epoch != pass.Epoch) pass.Open(epoch, firstMicro * Options.BatchSize);
                var batches = new List<TrainingBatch>();
                int lastMicro = Math.Min(firstMicro + Options.GradientAccumulationSteps, microPerEpoch);
                for (int micro = firstMicro; micro < lastMicro; micro++)
                {
                    int from = micro * Options.BatchSize, to = Math.Min(from + Options.BatchSize, train.Count);
                    batches.Add(Collate(pass.Take(to - from), "training"));
                }
                if (lastMicro == microPerEpoch) pass.Finish();
                optimizer.LearningRate = schedule.LearningRateAt(step);
                optimizer.ZeroGrad();
                double stepLoss = 0;
                long stepTargets = 0;
                foreach (var batch in batches)
                {
                    using var scope = new TensorScope();
                    var loss = Forward(batch);
                    if (loss.Targets == 0) continue;
                    stepLoss += (double)loss.Loss.Item() * loss.Targets;
                    stepTargets += loss.Targets;
                    // Each micro-batch adds its loss summed over its targets; the sum becomes the step's mean below.
                    Ops.Scale(loss.Loss, loss.Targets).Backward();
                }
                // A step whose rows have no target at all (every label -100) changes nothing.
                if (stepTargets > 0)
                {
                    GradientScaling.Scale(parameters, 1f / stepTargets);
                    if (Options.MaxGradNorm > 0) GradientClipping.ClipGlobalNorm(parameters, Options.MaxGradNorm);
                    optimizer.Step();
                }
                state = state with { Step = step + 1 };
                _current = state;
                windowLoss += stepLoss;
                windowTargets += stepTargets;
                windowTokens += batches.Sum(b => b.InputTokens);
                bool log = (step + 1) % Options.LogEverySteps == 0 || step + 1 == total;
                if (log)
                {
                    lastLoss = windowTargets == 0 ? float.NaN : (float)(windowLoss / windowTargets);
                    double seconds = clock.Elapsed.TotalSeconds;
                    progress?.Report(Report(step + 1, total, stepsPerEpoch, lastLoss, optimizer.LearningRate,
                        windowTokens / Math.Max(1e-9, seconds - windowStart), clock.Elapsed, startStep, null));
                    windowLoss = 0;
                    windowTargets = windowTokens = 0;
                    windowStart = seconds;
                }
                bool evaluate = evaluation is not null && ((Options.EvalEverySteps > 0 && (step + 1) % Options.EvalEverySteps == 0)
                    || (Options.EvalEverySteps == 0 && (step + 1) % stepsPerEpoch == 0) || step + 1 == total);
                if (evaluate)
                {
                    var result = Evaluate(evaluation!, cancellationToken);
                    Model.Training = true;
                    if (state.BestLoss is not double bestLoss || result.Loss < bestLoss - Options.EarlyStoppingThreshold)
                    {
                        state = state with { BestLoss = result.Loss, BestStep = step + 1, BestTokens = result.Tokens, EvaluationsWithoutImprovement = 0 };
                        if (Options.LoadBestAtEnd) best = parameters.Select(p => p.ToArray()).ToArray();
                    }
                    else state = state with { EvaluationsWithoutImprovement = state.EvaluationsWithoutImprovement + 1 };
                    _current = state;
                    progress?.Report(Report(step + 1, total, stepsPerEpoch, lastLoss, optimizer.LearningRate, 0, clock.Elapsed, startStep, (float)result.Loss));
                    if (Options.EarlyStoppingPatience is int patience && state.EvaluationsWithoutImprovement >= patience)
                    {
                        stoppedEarly = true;
                        break;
                    }
                }
                if (Options.CheckpointEverySteps > 0 && (step + 1) % Options.CheckpointEverySteps == 0)
                    SaveCheckpoint(Options.CheckpointFolder!);
            }
        }
        finally
        {
            Model.Training = wasTraining;
            Model.BaseModel.GradientCheckpointing = wasCheckpointing;
        }
        if (Options.CheckpointFolder is { } final) SaveCheckpoint(final);
        if (best is not null)
        {
            for (int i = 0; i < parameters.Length; i++)
            {
                best[i].CopyTo(parameters[i].Span);
                parameters[i].MarkModified();
            }
        }
        var bestEvaluation = state.BestLoss is double bestValue ? new EvaluationResult(bestValue, Math.Exp(bestValue), state.BestTokens) : null;
        return new TrainingResult(state.Step, lastLoss, bestEvaluation, state.BestStep, stoppedEarly);
    }

    private TrainingProgress Report(int step, int total, int stepsPerEpoch, float loss, float learningRate, double tokensPerSecond, TimeSpan elapsed,
        int startStep, float? evaluationLoss)
    {
        int done = step - startStep;
        var remaining = done > 0 ? TimeSpan.FromTicks((long)(elapsed.Ticks / (double)done * (total - step))) : TimeSpan.Zero;
        return new TrainingProgress(step, total, (double)step / stepsPerEpoch, loss, learningRate, tokensPerSecond, elapsed, remaining, evaluationLoss);
    }

    /// <summary>The mean loss per target token over <paramref name="data"/> and its perplexity (no gradients, adapters in inference mode).</summary>
    /// <exception cref="ArgumentException">Empty data, or a bad row (named by index).</exception>
    public EvaluationResult Evaluate(IReadOnlyList<TrainingExample> data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Evaluate(TrainingData.FromList(data), cancellationToken);
    }

    /// <summary>
    /// The mean loss per target token over one pass of <paramref name="data"/> in source order and
    /// its perplexity (no gradients, adapters in inference mode).
    /// </summary>
    /// <exception cref="ArgumentException">Empty data, or a bad row (named by index).</exception>
    /// <exception cref="InvalidDataException">The pass gave another number of rows than the source's count.</exception>
    public EvaluationResult Evaluate(TrainingData data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Count == 0) throw new ArgumentException("The evaluation data is empty.", nameof(data));
        bool wasTraining = Model.Training;
        Model.Training = false;
        double sum = 0;
        long tokens = 0;
        try
        {
            using var noGrad = Autograd.NoGrad();
            using var pass = new EpochReader(data, null, cancellationToken);
            pass.Open(0, 0);
            for (int from = 0; from < data.Count; from += Options.BatchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var batch = Collate(pass.Take(Math.Min(Options.BatchSize, data.Count - from)), "evaluation");
                using var scope = new TensorScope();
                var batchLoss = Forward(batch);
                if (batchLoss.Targets == 0) continue;
                sum += (double)batchLoss.Loss.Item() * batchLoss.Targets;
                tokens += batchLoss.Targets;
            }
            pass.Finish();
        }
        finally
        {
            Model.Training = wasTraining;
        }
        if (tokens == 0) throw new ArgumentException("The evaluation rows have no target tokens (every label is -100).", nameof(data));
        double loss = sum / tokens;
        return new EvaluationResult(loss, Math.Exp(loss), tokens);
    }

    private TrainingBatch Collate(IReadOnlyList<IndexedExample> rows, string name) =>
        TrainingBatch.Collate(rows, EncoderDecoder, PadId, Options.MaxLength, Model.BaseModel.Config.VocabSize, Model.NeedsTaskIds, name,
            (Model.BaseModel as SequenceClassificationModel)?.NumLabels);

    // The loss-only path: the LM head skips positions without a target (and holds no logits when chunked).
    private TargetLoss Forward(TrainingBatch batch) => Model.Loss(batch.InputIds, batch.Labels, batch.AttentionMask, batch.TaskIds, Options.ChunkedLoss);

}
