using System.Text;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Ingest.DropIn;

namespace AnomalyZT.Tests.Ingest.DropIn;

public sealed class CloudTrailReaderTests
{
    private const string GetObject = """{"eventVersion":"1.09","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:trainer","arn":"arn:aws:sts::111122223333:assumed-role/ml-trainer/trainer","accountId":"111122223333"},"eventTime":"2024-05-01T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"eu-west-1","sourceIPAddress":"198.51.100.23","userAgent":"[aws-sdk-go-v2/1.25.0]","requestParameters":{"bucketName":"datasets","key":"train/shard-001.parquet"},"responseElements":null,"additionalEventData":{"bytesTransferredIn":0,"bytesTransferredOut":1048576},"requestID":"REQ1","eventID":"EV1","readOnly":true,"eventType":"AwsApiCall","recipientAccountId":"111122223333"}""";

    private const string DeniedAssumeRole = """{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","userName":"bob"},"eventTime":"2024-05-01T10:00:05Z","eventSource":"sts.amazonaws.com","eventName":"AssumeRole","sourceIPAddress":"203.0.113.9","userAgent":"aws-cli/2.15.0","errorCode":"AccessDenied","errorMessage":"not authorized","resources":[{"ARN":"arn:aws:iam::111122223333:role/admin","accountId":"111122223333","type":"AWS::IAM::Role"}],"requestID":"REQ2","eventID":"EV2"}""";

    private const string ServiceCall = """{"userIdentity":{"type":"AWSService","invokedBy":"ec2.amazonaws.com"},"eventTime":"2024-05-01T10:00:06Z","eventName":"RunInstances","sourceIPAddress":"ec2.amazonaws.com","errorCode":"Client.InstanceLimitExceeded","eventID":"EV3"}""";

    [Fact]
    public void Read_LogFileForm_MapsRecords()
    {
        var body = "{\"Records\":[" + GetObject + "," + DeniedAssumeRole + "," + ServiceCall + "]}";

        var r = CloudTrailReader.Read(Encoding.UTF8.GetBytes(body));

        Assert.Empty(r.Errors);
        Assert.Equal(3, r.Items);
        var get = r.Events[0];
        Assert.Equal(
            (1714557600000L, "arn:aws:sts::111122223333:assumed-role/ml-trainer/trainer", PrincipalSource.Field, "198.51.100.23", "[aws-sdk-go-v2/1.25.0]",
                "GetObject", "datasets/train/shard-001.parquet", Outcome.Success, 1048576L, "REQ1"),
            (get.TimestampMs, get.Principal, get.PrincipalSource, get.SourceIp, get.UserAgent, get.Action, get.Resource, get.Outcome, get.BytesOut, get.SessionId));
        var denied = r.Events[1];
        Assert.Equal(("AIDAEXAMPLE", "arn:aws:iam::111122223333:role/admin", Outcome.Denied), (denied.Principal, denied.Resource, denied.Outcome));
        var service = r.Events[2];
        Assert.Equal(("ec2.amazonaws.com", null, Outcome.Failure, "EV3"), (service.Principal, service.SourceIp, service.Outcome, service.SessionId));
    }

    [Fact]
    public void Read_OneRecordPerLine_MapsAndRejectsPerLine()
    {
        var body = GetObject + "\n\n" + "{\"eventName\":\"ListBuckets\",\"sourceIPAddress\":\"10.0.0.1\"}\n" + "{broken\n"
            + "{\"eventTime\":\"2024-05-01T10:00:00Z\",\"eventName\":\"X\"}\n" + "{\"eventTime\":\"yesterday\",\"sourceIPAddress\":\"10.0.0.1\"}\r\n"
            + DeniedAssumeRole;

        var r = CloudTrailReader.Read(Encoding.UTF8.GetBytes(body));

        Assert.Equal(6, r.Items);
        Assert.Equal(r.Items, r.Events.Count + r.Errors.Count);
        Assert.Equal(2, r.Events.Count);
        Assert.Equal([1, 2, 3, 4], r.Errors.Select(e => e.Index));
        Assert.Equal("missing required field 'eventTime'", r.Errors[0].Reason);
        Assert.StartsWith("invalid JSON", r.Errors[1].Reason, StringComparison.Ordinal);
        Assert.StartsWith("no principal", r.Errors[2].Reason, StringComparison.Ordinal);
        Assert.Equal("field 'eventTime' is not an RFC 3339 timestamp", r.Errors[3].Reason);
    }

    [Fact]
    public void Read_RecordsNotAnArrayOrBadRecord_Rejected()
    {
        Assert.Equal("field 'Records' is not an array", Assert.Single(CloudTrailReader.Read("""{"Records":{}}"""u8).Errors).Reason);

        var r = CloudTrailReader.Read(Encoding.UTF8.GetBytes("{\"Records\":[1," + GetObject + "]}"));
        Assert.Equal((2, 1), (r.Items, r.Events.Count));
        Assert.Equal(new DropInError(0, "record is not a JSON object"), Assert.Single(r.Errors));
    }

    [Theory]
    [InlineData("AccessDenied", Outcome.Denied)]
    [InlineData("AccessDeniedException", Outcome.Denied)]
    [InlineData("Client.UnauthorizedOperation", Outcome.Denied)]
    [InlineData("NoSuchKey", Outcome.Failure)]
    public void TryParseRecord_ErrorCode_MapsOutcome(string code, Outcome expected)
    {
        var line = $$"""{"eventTime":"2024-05-01T10:00:00Z","userIdentity":{"userName":"u"},"errorCode":"{{code}}"}""";

        Assert.True(CloudTrailReader.TryParseRecord(Encoding.UTF8.GetBytes(line), out var a, out _));
        Assert.Equal(expected, a.Outcome);
    }
}
