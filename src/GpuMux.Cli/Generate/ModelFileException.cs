namespace GpuMux.Cli.Generate;

/// <summary>A file of the model directory that is missing what it should hold or that no reader here supports; the message is one line for the user.</summary>
internal sealed class ModelFileException(string message) : Exception(message);
