/**
 * Errors shaped like the ones the SDK v3 clients throw.
 *
 * Modeled ECS errors use the classes exported by `@aws-sdk/client-ecs`, so both
 * `instanceof ClusterNotFoundException` and `error.name === 'ClusterNotFoundException'` work.
 * Auto Scaling and EC2 mostly return unmodeled error codes (`ValidationError`,
 * `InvalidInstanceID.NotFound`); the SDK throws those as its service base exception
 * with `name` set to the code, and so does the fake.
 */
import { AutoScalingServiceException } from '@aws-sdk/client-auto-scaling';
import { EC2ServiceException } from '@aws-sdk/client-ec2';
import {
  AccessDeniedException,
  ClientException,
  ClusterNotFoundException,
  ConflictException,
  ECSServiceException,
  InvalidParameterException,
  MissingVersionException,
  NoUpdateAvailableException,
  ServerException,
  UpdateInProgressException,
} from '@aws-sdk/client-ecs';
import type { FleetService } from './types';

let requestCounter = 0;

/** A fresh `$metadata` object like the SDK attaches to outputs and errors. */
export function metadata(httpStatusCode: number): { httpStatusCode: number; requestId: string; attempts: number; totalRetryDelay: number } {
  requestCounter += 1;
  const hex = requestCounter.toString(16).padStart(12, '0');
  return { httpStatusCode, requestId: `00000000-0000-4000-8000-${hex}`, attempts: 1, totalRetryDelay: 0 };
}

/** ECS modeled errors the fake throws. */
export const ecsErrors = {
  /** `ClusterNotFoundException: Cluster not found.` */
  clusterNotFound: () => new ClusterNotFoundException({ message: 'Cluster not found.', $metadata: metadata(400) }),
  /** `InvalidParameterException` with a message. */
  invalidParameter: (message: string) => new InvalidParameterException({ message, $metadata: metadata(400) }),
  /** `NoUpdateAvailableException`. */
  noUpdateAvailable: () => new NoUpdateAvailableException({
    message: 'There is no update available for your container agent.',
    $metadata: metadata(400),
  }),
  /** `UpdateInProgressException`. */
  updateInProgress: () => new UpdateInProgressException({
    message: 'There is already a current update in progress for this container agent.',
    $metadata: metadata(400),
  }),
  /**
   * `ClientException` for a platform UpdateContainerAgent does not support (Windows, Arm, Bottlerocket, external).
   * An assumption: AWS documents that these platforms are not supported, not which error the call returns; the
   * Arm message is the one the ECS console shows (aws/amazon-ecs-agent#4099).
   */
  updateNotSupported: (message: string) => new ClientException({ message, $metadata: metadata(400) }),
  /** `ConflictException`: a RunTask client token already used with other parameters; names the tasks it started. */
  conflict: (resourceIds: string[]) => new ConflictException({
    message: 'The specified client token has already been used in another request with different parameters.',
    resourceIds: [...resourceIds],
    $metadata: metadata(400),
  }),
  /** `MissingVersionException`. */
  missingVersion: () => new MissingVersionException({
    message: 'The container agent version information is missing, so the agent cannot be updated.',
    $metadata: metadata(400),
  }),
};

function withRetryable<E extends Error>(error: E, throttling: boolean): E {
  (error as any).$retryable = { throttling };
  return error;
}

function unmodeled(service: FleetService, name: string, message: string, fault: 'client' | 'server', status: number): Error {
  const options = { name, message, $fault: fault, $metadata: metadata(status) };
  switch (service) {
    case 'ecs': return new ECSServiceException(options);
    case 'autoscaling': return new AutoScalingServiceException(options);
    case 'ec2': return new EC2ServiceException(options);
  }
}

/** Auto Scaling `ValidationError` (HTTP 400), as AWS returns for unknown groups and instances. */
export function autoScalingValidationError(message: string): Error {
  return unmodeled('autoscaling', 'ValidationError', message, 'client', 400);
}

/** Auto Scaling `InvalidNextToken`. */
export function autoScalingInvalidNextToken(): Error {
  return unmodeled('autoscaling', 'InvalidNextToken', 'The token provided is not valid.', 'client', 400);
}

/** An EC2 error code (e.g. `InvalidInstanceID.NotFound`, HTTP 400). */
export function ec2Error(code: string, message: string): Error {
  return unmodeled('ec2', code, message, 'client', 400);
}

/**
 * A throttling error as the service returns it: ECS `ThrottlingException`, Auto Scaling
 * `Throttling`, EC2 `RequestLimitExceeded` (all HTTP 400, `$fault: 'client'`,
 * `$retryable: { throttling: true }`; the SDK's retry classifier treats all three as throttling).
 */
export function throttlingError(service: FleetService): Error {
  const name = { ecs: 'ThrottlingException', autoscaling: 'Throttling', ec2: 'RequestLimitExceeded' }[service];
  return withRetryable(unmodeled(service, name, 'Rate exceeded', 'client', 400), true);
}

/**
 * An HTTP 500 error: ECS `ServerException` (modeled), Auto Scaling `InternalFailure`,
 * EC2 `InternalError`; all `$fault: 'server'`.
 */
export function serverError(service: FleetService): Error {
  if (service === 'ecs') {
    const e = new ServerException({ message: 'Service Unavailable. Please try again later.', $metadata: metadata(500) });
    return withRetryable(e, false);
  }
  const name = service === 'autoscaling' ? 'InternalFailure' : 'InternalError';
  return withRetryable(unmodeled(service, name, 'An internal error has occurred.', 'server', 500), false);
}

/**
 * An authorization failure: ECS `AccessDeniedException` (modeled), Auto Scaling `AccessDenied`,
 * EC2 `UnauthorizedOperation`; HTTP 400/403, `$fault: 'client'`.
 */
export function accessDeniedError(service: FleetService, action: string, resource = '*'): Error {
  const message = `User: arn:aws:sts::123456789012:assumed-role/test-role/test is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`;
  switch (service) {
    case 'ecs': return new AccessDeniedException({ message, $metadata: metadata(400) });
    case 'autoscaling': return unmodeled(service, 'AccessDenied', message, 'client', 403);
    case 'ec2': return unmodeled(service, 'UnauthorizedOperation', `You are not authorized to perform this operation. ${message}`, 'client', 403);
  }
}

/** The error for a command the fake does not model. */
export class NotModeledError extends Error {
  constructor(serviceLabel: string, commandName: string, detail?: string) {
    super(`FakeFleet does not model ${serviceLabel} ${commandName}${detail ? `: ${detail}` : ''}`);
    this.name = 'FakeFleetNotModeledError';
  }
}
