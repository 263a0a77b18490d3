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

    /// <summary>Scores one row after training; set by the owning detector (spike or change point).</summary>
    public Func<double, TimeSeriesOutput> Score { get; set; } = static _ => TimeSeriesOutput.Missing;

    public int TrainingWindowSize => Model.TrainingWindowSize;

    /// <summary>True once the first N rows were trained on (the model itself may still be untrained, see <see cref="SsaModel.IsTrained"/>).</summary>
    public bool IsTrained => _trained;

    /// <summary>Rows buffered while warming up.</summary>
    public int Buffered => _buffered;

    /// <summary>The buffered rows, NaN included, until <see cref="ReleaseTrainingRows"/>.</summary>
    public ReadOnlySpan<double> TrainingRows => _training.AsSpan(0, _buffered);

    /// <summary>Buffers one finite row (spec §3: Fit trains on the first N non-NaN rows); trains and returns true when
    /// it is the N-th. Callers never pass a non-finite row.</summary>
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

    /// <summary>Scores one row, then learns it (the detectors' single-output <c>Update</c>).</summary>
    public TimeSeriesOutput Update(double x)
    {
        if (_trained)
        {
            return Score(x);
        }

        if (!double.IsFinite(x))
        {
            return TimeSeriesOutput.Missing; // missing rows do not count towards the N training rows
        }

        return Buffer(x) ? ScoreTrainingRows([]) : TimeSeriesOutput.Missing;
    }

    /// <summary>The detectors' span <c>Update</c>: none while warming up (one <see cref="TimeSeriesOutput.Missing"/>
    /// for a NaN row, which does not count towards N), all N buffered rows (oldest first) when the N-th finite row
    /// completes training, one row afterwards. <see cref="Run"/> maps outputs back to rows.</summary>
    public int Update(double x, Span<TimeSeriesOutput> outputs)
    {
        var finite = double.IsFinite(x);
        var needed = _trained || !finite ? 1 : _buffered + 1 == TrainingWindowSize ? TrainingWindowSize : 0;
        if (outputs.Length < needed)
        {
            throw new ArgumentException($"outputs holds {outputs.Length} rows; this row needs {needed}", nameof(outputs));
        }

        if (_trained)
        {
            outputs[0] = Score(x);
            return 1;
        }

        if (!finite)
        {
            outputs[0] = TimeSeriesOutput.Missing;
            return 1;
        }

        if (!Buffer(x))
        {
            return 0;
        }

        ScoreTrainingRows(outputs);
        return TrainingWindowSize;
    }

    /// <summary>ML.NET's Fit-then-transform over a whole series: trains on the first N non-NaN rows (all of them if
    /// fewer), then scores every row from row 0. Output i belongs to row i; NaN rows are Missing.</summary>
    public TimeSeriesOutput[] Run(ReadOnlySpan<double> series)
    {
        var result = new TimeSeriesOutput[series.Length];
        var pending = new List<int>(TrainingWindowSize); // rows waiting in the training buffer
        var scored = new TimeSeriesOutput[TrainingWindowSize];
        for (var i = 0; i < series.Length; i++)
        {
            var x = series[i];
            if (_trained)
            {
                result[i] = Score(x);
            }
            else if (!double.IsFinite(x))
            {
                result[i] = TimeSeriesOutput.Missing;
            }
            else
            {
                pending.Add(i);
                if (Buffer(x))
                {
                    ScoreTrainingRows(scored);
                    Place(pending, scored, result);
                }
            }
        }

        if (!_trained && _buffered > 0)
        {
            Train();
            ScoreTrainingRows(scored);
            Place(pending, scored, result);
        }

        return result;
    }

    private static void Place(List<int> rows, TimeSeriesOutput[] outputs, TimeSeriesOutput[] result)
    {
        for (var k = 0; k < rows.Count; k++)
        {
            result[rows[k]] = outputs[k];
        }

        rows.Clear();
    }

    private TimeSeriesOutput ScoreTrainingRows(Span<TimeSeriesOutput> outputs)
    {
        var rows = TrainingRows;
        var last = TimeSeriesOutput.Missing;
        for (var i = 0; i < rows.Length; i++)
        {
            last = Score(rows[i]);
            if (!outputs.IsEmpty)
            {
                outputs[i] = last;
            }
        }

        ReleaseTrainingRows();
        return last;
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
