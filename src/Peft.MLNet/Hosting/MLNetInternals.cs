using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace Peft.MLNet.Hosting;

/// <summary>
/// The two things a third-party component needs from ML.NET 6 that it keeps internal (its own
/// components reach them as friend assemblies): the environment behind a catalog (so
/// <c>mlContext.MulticlassClassification.Trainers.X(...)</c> can log to the context) and whether
/// execution was cancelled. Both are read by name once; where a future ML.NET lacks them the
/// catalog overloads say to use the trainer's constructor, and cancellation reads as never.
/// </summary>
internal static class MLNetInternals
{
    private static readonly Type? InternalCatalog = typeof(MLContext).Assembly.GetType("Microsoft.ML.Data.IInternalCatalog")
        ?? typeof(IHostEnvironment).Assembly.GetType("Microsoft.ML.Data.IInternalCatalog");

    /// <summary>The environment (the MLContext's) a catalog was made by.</summary>
    /// <exception cref="InvalidOperationException">This ML.NET hides it differently; the message names the constructor to use instead.</exception>
    public static IHostEnvironment EnvironmentOf(object catalog, string alternative)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var property = InternalCatalog?.GetProperty("Environment");
        if (property is not null && InternalCatalog!.IsInstanceOfType(catalog) && property.GetValue(catalog) is IHostEnvironment environment)
        {
            return environment;
        }
        throw new InvalidOperationException(
            $"This version of ML.NET does not let Peft.MLNet find the MLContext behind {catalog.GetType().Name}; " +
            $"use {alternative} instead.");
    }

    /// <summary>Whether <paramref name="environment"/>'s execution was cancelled (ML.NET's CancelExecution).</summary>
    public static bool IsCanceled(IHostEnvironment environment)
    {
        var cancelable = environment.GetType().GetInterfaces().FirstOrDefault(i => i.FullName == "Microsoft.ML.Runtime.ICancelable");
        return cancelable?.GetProperty("IsCanceled", BindingFlags.Public | BindingFlags.Instance)?.GetValue(environment) is true;
    }
}
