namespace AnomalyZT.Tests.Response.Contracts;

/// <summary>The common setup of a provider contract test class: the stub (a class fixture, reset for every test)
/// answers with <see cref="Override"/> where it gives an answer and with the provider's documented <see cref="Handle"/>
/// otherwise; a clock at <see cref="Contract.T0"/>; one client.</summary>
public abstract class ProviderContractTests
{
    /// <summary>Installs this test's handler on <paramref name="stub"/>.</summary>
    protected ProviderContractTests(ProviderStub stub)
    {
        Stub = stub;
        stub.Reset(r => Override(r) ?? Handle(r));
    }

    /// <summary>The recording stub.</summary>
    protected ProviderStub Stub { get; }

    /// <summary>The connector's clock, starting at <see cref="Contract.T0"/>.</summary>
    protected ManualTime Time { get; } = new(Contract.T0);

    /// <summary>The connector's client.</summary>
    protected HttpClient Http { get; } = new();

    /// <summary>A test's own answer, in front of the provider's; null to leave the request to <see cref="Handle"/>.</summary>
    protected Func<RecordedRequest, StubResponse?> Override { get; set; } = _ => null;

    /// <summary>The provider's answer, as its documentation describes it.</summary>
    protected abstract StubResponse Handle(RecordedRequest r);
}
