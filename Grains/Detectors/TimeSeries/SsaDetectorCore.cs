namespace AnomalyZT.Grains.Detectors.TimeSeries;

/// <summary>What the SSA spike and change-point detectors share: the warm-up buffer of the first N rows, the model
/// trained on them, and the error function. No look-ahead: rows are buffered until row N, then trained on.</summary>
internal sealed class SsaDetectorCore
{
    private const byte Warming = 0;
    private const byte Trained = 1;
    private readonly ErrorFunction _errorFunction;
    private double[] _training;
    private int _buffered;
    private bool _trained;

    public SsaDetectorCore(int trainingWindowSize, int seasonalityWindowSize, ErrorFunction errorFunction)
    {
        ErrorFunctions.Validate(errorFunction);
        Model = new SsaModel(trainingWindowSize, seasonalityWindowSize);
        _errorFunction = errorFunction;
        _training = new double[trainingWindowSize];
    }

    public SsaModel Model { get; }

    public int TrainingWindowSize => Model.TrainingWindowSize;

    /// <summary>True once the first N rows were trained on (the model itself may still be untrained, see <see cref="SsaModel.IsTrained"/>).</summary>
    public bool IsTrained => _trained;

    /// <summary>Rows buffered while warming up.</summary>
    public int Buffered => _buffered;

    /// <summary>The buffered rows, NaN included, until <see cref="ReleaseTrainingRows"/>.</summary>
    public ReadOnlySpan<double> TrainingRows => _training.AsSpan(0, _buffered);

    /// <summary>Buffers one row (NaN included: the reference trains on the first N rows, dropping NaN within them);
    /// trains and returns true when it is the N-th.</summary>
    public bool Buffer(double x)
    {
        _training[_buffered++] = x;
        if (_buffered < _training.Length)
        {
            return false;
        }

        Train();
        return true;
    }

    /// <summary>Trains on what has been buffered so far (fewer than N rows: the end of a batch).</summary>
    public void Train()
    {
        Model.Train(TrainingRows);
        _trained = true;
    }

    /// <summary>Drops the warm-up buffer once its rows have been scored.</summary>
    public void ReleaseTrainingRows()
    {
        _training = [];
        _buffered = 0;
    }

    /// <summary>The raw score of <paramref name="x"/> against ŷ (predicted before x), then feeds x to the model.
    /// False, with nothing consumed, when x or the score is not finite (an infinite score would poison the history).</summary>
    public bool TryScore(double x, out double error)
    {
        error = _errorFunction.Apply(x, Model.Forecast);
        if (!double.IsFinite(x) || !double.IsFinite(error))
        {
            return false;
        }

        Model.Consume(x);
        return true;
    }

    public void Write(BinaryWriter writer)
    {
        if (!_trained)
        {
            writer.Write(Warming);
            writer.Write(_buffered);
            for (var i = 0; i < _buffered; i++)
            {
                writer.Write(_training[i]);
            }

            return;
        }

        writer.Write(Trained);
        Model.Write(writer);
    }

    public void Read(BinaryReader reader)
    {
        var phase = reader.ReadByte();
        if (phase == Warming)
        {
            var buffered = reader.ReadInt32();
            var capacity = Model.TrainingWindowSize;
            if (buffered < 0 || buffered >= capacity)
            {
                throw new InvalidDataException($"ssa warm-up holds {buffered} rows; fewer than {capacity} fit");
            }

            _training = new double[capacity];
            for (var i = 0; i < buffered; i++)
            {
                _training[i] = reader.ReadDouble();
            }

            _buffered = buffered;
            _trained = false;
            Model.Train([]);
            return;
        }

        if (phase != Trained)
        {
            throw new InvalidDataException($"ssa detector phase {phase} is unknown");
        }

        Model.Read(reader);
        ReleaseTrainingRows();
        _trained = true;
    }
}
