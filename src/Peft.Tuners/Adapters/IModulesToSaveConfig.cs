namespace Peft.Tuners.Adapters;

/// <summary>A config that can list base modules whose whole weights the adapter trains and saves as its own copy (HF PEFT's <c>modules_to_save</c>).</summary>
public interface IModulesToSaveConfig : IPeftConfig
{
    /// <summary>Module names as HF gives them (e.g. <c>lm_head</c>, <c>ln_f</c>), or null for none.</summary>
    IReadOnlyList<string>? ModulesToSave { get; }
}
