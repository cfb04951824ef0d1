/**
 * Shared SDK v3 client settings. Endpoints come from the SDK's standard variables
 * (AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_DYNAMODB), never from custom code paths.
 * Timeouts bound a hung connection well inside the Lambda timeout; the SDK's standard
 * retry mode (3 attempts) handles throttling.
 */
export const awsClientConfig = {
  requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000 },
} as const;
