/**
 * A local HTTP server standing in for AWS, for tests that run a built handler bundle in its own process
 * (see run-bundle.ts): the bundled SDK v3 clients reach it through `AWS_ENDPOINT_URL`, so what is tested is
 * the real client, its serializers, its retry strategy and its error classes, as bundled.
 *
 * ```ts
 * const standin = await new AwsStandin().start();
 * afterAll(() => standin.stop());
 *
 * standin.on('ecs', 'ListClusters', () => ({ clusterArns: ['arn:aws:ecs:us-east-1:123456789012:cluster/prod'] }));
 * standin.on('ecs', 'DescribeClusters', () => standin.error('ClusterNotFoundException', 'Cluster not found.'));
 * standin.on('ec2', 'TerminateInstances', (input) => ({                 // input: { InstanceId: ['i-1'] }
 *   TerminatingInstances: input.InstanceId.map((InstanceId: string) => ({ InstanceId })),
 * }));
 *
 * // ... run the bundle with AWS_ENDPOINT_URL=standin.url ...
 * expect(standin.callsTo('ec2', 'TerminateInstances')[0].input).toEqual({ InstanceId: ['i-1'] });
 * ```
 *
 * Requests: the service is the one in the SigV4 credential scope (`Credential=AKID/<date>/<region>/<service>/aws4_request`),
 * the operation is the `X-Amz-Target` suffix (awsJson 1.0 and 1.1) or the `Action` of the form-encoded body (awsQuery,
 * and ec2Query when the service is `ec2`). The input is recorded as it is on the wire: JSON bodies as they are, query
 * bodies as a structure of strings in which `.member.N` / `.entry.N` / `.N` make lists
 * (`InstanceIds.member.1=i-1` -> `{ InstanceIds: ['i-1'] }`, EC2 `InstanceId.1=i-1` -> `{ InstanceId: ['i-1'] }`).
 *
 * Answers are the operation's output as the SDK returns it (its member names, `Date`s, `Uint8Array`s), and are
 * written in the protocol's wire format by the operation's own output schema, read from the installed client
 * package (`@aws-sdk/client-<service>`, through `@smithy/core/schema`): JSON member names and epoch-second
 * timestamps for awsJson; for awsQuery `<OpResponse><OpResult>` with the schema's XML names, `<member>` lists and
 * `<entry>` maps; for ec2Query the schema's lowerCamelCase XML names (`TerminatingInstances` is `instancesSet`) and
 * `<item>` lists. An answer with a member the output does not have, or a value of the wrong kind, is answered with
 * an `AwsStandinBadAnswer` error instead, so a mistyped answer fails a test rather than vanish in the deserializer.
 * For a service whose client package is not installed, answers are written by convention (JSON as is; awsQuery
 * names as given with `<member>` lists; ec2Query names in lowerCamelCase with `<item>` lists), unchecked.
 *
 * Errors: an answer may return or throw `standin.error(code, message, status)`, written in the protocol's error
 * format (JSON `__type`; awsQuery `<ErrorResponse><Error><Type>Sender</Type><Code>`; ec2Query
 * `<Response><Errors><Error><Code>`), so the SDK raises the modelled exception class of that name and retries it when
 * its retry strategy says so (throttling codes, 500/502/503/504). An operation nobody registered is answered with
 * `AwsStandinNoAnswer` (HTTP 400, so it is not retried) naming the service and operation, and is recorded.
 *
 * Faults: `standin.fault({ service, operation?, when?, mode })` makes the calls it matches (a whole service, one
 * operation, or only inputs `when` accepts) fail the way AWS fails, whatever answer is registered:
 * - `hang`: the request is read and recorded, and never answered (the connection stays open until `stop()`);
 * - `throttle`: the service's throttling error (`ThrottlingException`, `Throttling` for awsQuery, `RequestLimitExceeded`
 *   for ec2Query, `ProvisionedThroughputExceededException` for DynamoDB), HTTP 400, which the SDK retries with backoff;
 * - `error500`: `InternalFailure` (`InternalServerError` for DynamoDB), HTTP 500, which the SDK retries at once.
 *
 * ```ts
 * standin.fault({ service: 'dynamodb', mode: 'throttle' });
 * standin.fault({ service: 'ecs', operation: 'ListContainerInstances', when: (input) => input.cluster === 'blue', mode: 'hang' });
 * ```
 */
import { randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { AddressInfo } from 'node:net';

/** The wire protocols the stand-in speaks. */
export type AwsStandinProtocol = 'awsJson1_0' | 'awsJson1_1' | 'awsQuery' | 'ec2Query';

/** One request the stand-in received. */
export interface AwsStandinCall {
  /** The SigV4 signing name from the credential scope, e.g. `ecs`, `dynamodb`, `autoscaling`, `ec2`. */
  readonly service: string;
  /** The operation, e.g. `ListClusters`. */
  readonly operation: string;
  /** The protocol of the request, or `unknown` when the stand-in could not tell it. */
  readonly protocol: AwsStandinProtocol | 'unknown';
  /** The region of the credential scope. */
  readonly region: string;
  /** The parsed input: the JSON body, or the query parameters as a structure (see the module comment). */
  readonly input: any;
  /** HTTP status of the answer. */
  status: number;
  /** The error code answered, when the answer was an error. */
  errorCode?: string;
  /** The error message answered, when the answer was an error. */
  errorMessage?: string;
  /** The fault that answered the call (a `hang` is recorded with status 0: it is never answered). */
  fault?: AwsStandinFaultMode;
}

/** How a faulted call fails; see the module comment. */
export type AwsStandinFaultMode = 'hang' | 'throttle' | 'error500';

/** The calls a fault applies to, and how they fail. */
export interface AwsStandinFault {
  /** The SigV4 signing name, e.g. `dynamodb`, `ecs`, `logs`. */
  readonly service: string;
  /** @default - every operation of the service */
  readonly operation?: string;
  /** Only calls whose parsed input this accepts. @default - every call */
  readonly when?: (input: any) => boolean;
  readonly mode: AwsStandinFaultMode;
}

/**
 * What answers one operation: the output (a plain object as the SDK returns it, or `undefined` for an empty
 * output) or an error from {@link AwsStandin.error}, returned or thrown, directly or through a promise.
 */
export type AwsStandinAnswer = (input: any, call: AwsStandinCall) => unknown;

/** An AWS error answer: the SDK raises it as the exception named `code`. */
export class AwsStandinError extends Error {
  public readonly code: string;
  public readonly status: number;

  constructor(code: string, message: string, status = 400) {
    super(message);
    this.name = 'AwsStandinError';
    this.code = code;
    this.status = status;
  }
}

export interface AwsStandinOptions {
  /**
   * Client packages by signing name, for output schemas of services this file does not know.
   * @default - the clients the handlers use (ecs, dynamodb, autoscaling, ec2, sns, secretsmanager, ssm, elasticache, logs)
   */
  readonly clientPackages?: Readonly<Record<string, string>>;
}

/** The client package of each signing name, whose operation schemas describe the wire format. */
const CLIENT_PACKAGES: Readonly<Record<string, string>> = {
  autoscaling: '@aws-sdk/client-auto-scaling',
  cloudformation: '@aws-sdk/client-cloudformation',
  dynamodb: '@aws-sdk/client-dynamodb',
  ec2: '@aws-sdk/client-ec2',
  ecs: '@aws-sdk/client-ecs',
  elasticache: '@aws-sdk/client-elasticache',
  logs: '@aws-sdk/client-cloudwatch-logs',
  secretsmanager: '@aws-sdk/client-secrets-manager',
  sns: '@aws-sdk/client-sns',
  ssm: '@aws-sdk/client-ssm',
};

/** Error codes the stand-in itself answers with. */
export const STANDIN_ERROR_CODES = {
  /** No answer is registered for the operation. */
  noAnswer: 'AwsStandinNoAnswer',
  /** The answer does not fit the operation's output schema. */
  badAnswer: 'AwsStandinBadAnswer',
  /** The answer threw something other than an {@link AwsStandinError}. */
  answerFailed: 'AwsStandinAnswerFailed',
  /** The request is not one the stand-in can read (no SigV4 scope, an unsupported protocol). */
  badRequest: 'AwsStandinBadRequest',
} as const;

export class AwsStandin {
  /** Every request, in the order received. */
  public readonly calls: AwsStandinCall[] = [];

  private readonly answers = new Map<string, AwsStandinAnswer>();
  private readonly faults: AwsStandinFault[] = [];
  private readonly clientPackages: Readonly<Record<string, string>>;
  private server?: Server;
  private port?: number;

  constructor(options: AwsStandinOptions = {}) {
    this.clientPackages = { ...CLIENT_PACKAGES, ...options.clientPackages };
  }

  /** `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL`. Throws before {@link start}. */
  public get url(): string {
    if (this.port === undefined) throw new Error('AwsStandin: not started; call start() first');
    return `http://127.0.0.1:${this.port}`;
  }

  /** Listens on 127.0.0.1 at a port the OS picks. */
  public async start(): Promise<this> {
    if (this.server) throw new Error('AwsStandin: already started');
    const server = createServer((request, response) => {
      this.serve(request, response).catch((error) => {
        // Only a bug in the stand-in gets here: answer something the client will not retry, and say what happened.
        if (!response.headersSent) {
          response.writeHead(400, { 'content-type': 'text/plain' });
        }
        response.end(`aws-standin failed: ${error instanceof Error ? error.stack : String(error)}`);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  /** Closes the server and every open connection. Safe to call twice. */
  public async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.port = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * Answers `operation` of `service` (the SigV4 signing name) with `answer`: a function of the parsed input,
   * or the output itself. A later registration for the same operation replaces an earlier one.
   */
  public on(service: string, operation: string, answer: AwsStandinAnswer | object): this {
    this.answers.set(key(service, operation), typeof answer === 'function' ? answer as AwsStandinAnswer : () => answer);
    return this;
  }

  /** An AWS error to return or throw from an answer; the SDK raises it as the exception named `code`. */
  public error(code: string, message: string, status = 400): AwsStandinError {
    return new AwsStandinError(code, message, status);
  }

  /**
   * Makes the calls `fault` matches fail as it says, before any answer is asked. Faults added earlier are checked
   * first.
   */
  public fault(fault: AwsStandinFault): this {
    this.faults.push(fault);
    return this;
  }

  /** Forgets every fault: calls are answered again. */
  public clearFaults(): void {
    this.faults.length = 0;
  }

  /** The recorded calls of one operation, in order. */
  public callsTo(service: string, operation: string): AwsStandinCall[] {
    return this.calls.filter((call) => call.service === service && call.operation === operation);
  }

  /** Forgets every answer, every fault and every recorded call. */
  public reset(): void {
    this.answers.clear();
    this.faults.length = 0;
    this.calls.length = 0;
  }

  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const requestId = randomUUID();
    const scope = credentialScope(header(request, 'authorization'));
    const target = header(request, 'x-amz-target');
    const contentType = header(request, 'content-type') ?? '';
    const service = scope?.service ?? 'unknown';
    const region = scope?.region ?? 'unknown';

    let protocol: AwsStandinProtocol | 'unknown' = 'unknown';
    let operation = 'unknown';
    let input: any = {};
    let problem: string | undefined;
    let version = '';
    if (target !== undefined && /^application\/x-amz-json-1\.[01]\b/.test(contentType)) {
      protocol = contentType.includes('1.0') ? 'awsJson1_0' : 'awsJson1_1';
      operation = target.slice(target.lastIndexOf('.') + 1);
      try {
        input = body.length > 0 ? JSON.parse(body) : {};
      } catch {
        problem = `the JSON body does not parse: ${body.slice(0, 200)}`;
      }
    } else if (contentType.startsWith('application/x-www-form-urlencoded')) {
      protocol = service === 'ec2' ? 'ec2Query' : 'awsQuery';
      const params = new URLSearchParams(body);
      operation = params.get('Action') ?? 'unknown';
      version = params.get('Version') ?? '';
      params.delete('Action');
      params.delete('Version');
      input = parseQuery(params);
      if (operation === 'unknown') problem = 'the form-encoded body has no Action';
    } else {
      problem = `no protocol the stand-in speaks (awsJson 1.0/1.1, awsQuery, ec2Query): ${request.method} ${request.url}, ` +
        `content-type ${JSON.stringify(contentType)}, x-amz-target ${JSON.stringify(target)}`;
    }
    if (!scope) problem = 'the request has no SigV4 Authorization header with a credential scope';

    const call: AwsStandinCall = { service, operation, protocol, region, input, status: 0 };
    this.calls.push(call);
    const wire: Wire = { protocol, service, operation, version, requestId };

    let answer: { status: number; code?: string; message?: string; output?: unknown };
    const fault = problem === undefined ? this.faults.find((f) => matches(f, call)) : undefined;
    if (fault?.mode === 'hang') {
      // Read and recorded, never answered: the client's timeouts are all that end the call.
      call.fault = 'hang';
      return;
    }
    if (problem !== undefined) {
      answer = { status: 400, code: STANDIN_ERROR_CODES.badRequest, message: `aws-standin: ${problem}` };
    } else if (fault) {
      call.fault = fault.mode;
      answer = faultAnswer(fault.mode, call);
    } else {
      answer = await this.answer(call);
    }

    let written: WireAnswer;
    if (answer.code === undefined) {
      try {
        written = writeOutput(wire, this.outputSchema(service, operation), answer.output);
      } catch (error) {
        if (!(error instanceof BadAnswer)) throw error;
        answer = { status: 400, code: STANDIN_ERROR_CODES.badAnswer, message: `aws-standin: the answer to ${service} ${operation} ${error.message}` };
        written = writeError(wire, answer.status, answer.code!, answer.message!);
      }
    } else {
      written = writeError(wire, answer.status, answer.code, answer.message ?? '');
    }
    call.status = answer.status;
    if (answer.code !== undefined) {
      call.errorCode = answer.code;
      call.errorMessage = answer.message;
    }
    response.writeHead(answer.status, {
      'content-type': written.contentType,
      'content-length': Buffer.byteLength(written.body),
      'x-amzn-requestid': requestId,
      'date': new Date().toUTCString(),
    });
    response.end(written.body);
  }

  private async answer(call: AwsStandinCall): Promise<{ status: number; code?: string; message?: string; output?: unknown }> {
    const answer = this.answers.get(key(call.service, call.operation));
    if (!answer) {
      return {
        status: 400,
        code: STANDIN_ERROR_CODES.noAnswer,
        message: `aws-standin: no answer registered for ${call.service} ${call.operation}; ` +
          `register one with standin.on('${call.service}', '${call.operation}', (input) => ({ ... }))`,
      };
    }
    let output: unknown;
    try {
      output = await answer(call.input, call);
    } catch (error) {
      if (!(error instanceof AwsStandinError)) {
        return {
          status: 400,
          code: STANDIN_ERROR_CODES.answerFailed,
          message: `aws-standin: the answer to ${call.service} ${call.operation} threw ` +
            (error instanceof Error ? `${error.name}: ${error.message}` : String(error)),
        };
      }
      output = error;
    }
    if (output instanceof AwsStandinError) {
      return { status: output.status, code: output.code, message: output.message };
    }
    return { status: 200, output };
  }

  /** The output schema of an operation, from the installed client package, or undefined when there is none. */
  private outputSchema(service: string, operation: string): SchemaNode | undefined {
    const schemas = loadSchemas(this.clientPackages[service]);
    const operationSchema = schemas?.client[`${operation}$`];
    if (!schemas || !Array.isArray(operationSchema) || operationSchema[0] !== OPERATION_SCHEMA) return undefined;
    return schemas.NormalizedSchema.of(operationSchema[5]);
  }
}

function matches(fault: AwsStandinFault, call: AwsStandinCall): boolean {
  return fault.service === call.service && (fault.operation === undefined || fault.operation === call.operation)
    && (fault.when === undefined || fault.when(call.input));
}

/** The error AWS answers a throttled or failing call of this service with. */
function faultAnswer(mode: 'throttle' | 'error500', call: AwsStandinCall): { status: number; code: string; message: string } {
  if (mode === 'error500') {
    return call.service === 'dynamodb'
      ? { status: 500, code: 'InternalServerError', message: 'Internal server error (aws-standin fault)' }
      : { status: 500, code: 'InternalFailure', message: 'The request processing has failed because of an unknown error (aws-standin fault)' };
  }
  if (call.service === 'dynamodb') {
    return {
      status: 400,
      code: 'ProvisionedThroughputExceededException',
      message: 'The level of configured provisioned throughput for the table was exceeded (aws-standin fault)',
    };
  }
  if (call.protocol === 'ec2Query') return { status: 400, code: 'RequestLimitExceeded', message: 'Request limit exceeded. (aws-standin fault)' };
  if (call.protocol === 'awsQuery') return { status: 400, code: 'Throttling', message: 'Rate exceeded (aws-standin fault)' };
  return { status: 400, code: 'ThrottlingException', message: 'Rate exceeded (aws-standin fault)' };
}

function key(service: string, operation: string): string {
  return `${service} ${operation}`;
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/** Region and service of `AWS4-HMAC-SHA256 Credential=AKID/20261122/us-east-1/ecs/aws4_request, ...`. */
export function credentialScope(authorization: string | undefined): { region: string; service: string } | undefined {
  const match = /Credential=[^/,\s]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(authorization ?? '');
  return match ? { region: match[1], service: match[2] } : undefined;
}

/**
 * Query parameters as a structure of strings: dots nest, `member.N` and `entry.N` (awsQuery lists and maps) and a
 * bare `N` (ec2Query lists) make lists. `Attributes.entry.1.key=a` gives `{ Attributes: [{ key: 'a' }] }`.
 */
export function parseQuery(params: URLSearchParams): Record<string, any> {
  const root: Record<string, any> = {};
  for (const [name, value] of params) {
    const raw = name.split('.');
    const path = raw.filter((segment, i) => !((segment === 'member' || segment === 'entry') && /^\d+$/.test(raw[i + 1] ?? '')));
    let node: any = root;
    for (let i = 0; i < path.length; i++) {
      const segment = path[i];
      const slot = /^\d+$/.test(segment) && Array.isArray(node) ? Number(segment) - 1 : segment;
      if (i === path.length - 1) {
        node[slot] = value;
      } else {
        if (node[slot] === undefined || typeof node[slot] !== 'object') {
          node[slot] = /^\d+$/.test(path[i + 1]) ? [] : {};
        }
        node = node[slot];
      }
    }
  }
  return root;
}

// ---------------------------------------------------------------------------------------------------------------
// Writing answers

interface Wire {
  readonly protocol: AwsStandinProtocol | 'unknown';
  readonly service: string;
  readonly operation: string;
  /** The API version of a query request (its `Version` parameter). */
  readonly version: string;
  readonly requestId: string;
}

interface WireAnswer {
  readonly contentType: string;
  readonly body: string;
}

/** The part of `@smithy/core/schema`'s NormalizedSchema the writers use. */
interface SchemaNode {
  getName(withNamespace?: boolean): string | undefined;
  getMemberTraits(): Record<string, any>;
  getMergedTraits(): Record<string, any>;
  getSchema(): unknown;
  getKeySchema(): SchemaNode;
  getValueSchema(): SchemaNode;
  structIterator(): Iterable<[string, SchemaNode]>;
  isUnitSchema(): boolean;
  isStructSchema(): boolean;
  isListSchema(): boolean;
  isMapSchema(): boolean;
  isDocumentSchema(): boolean;
  isTimestampSchema(): boolean;
  isBlobSchema(): boolean;
  isStringSchema(): boolean;
  isBooleanSchema(): boolean;
  isNumericSchema(): boolean;
  isBigIntegerSchema(): boolean;
  isBigDecimalSchema(): boolean;
}

interface LoadedSchemas {
  readonly client: Record<string, unknown>;
  readonly NormalizedSchema: { of(schema: unknown): SchemaNode };
}

/** The first element of a static operation schema `[9, namespace, name, traits, input, output]`. */
const OPERATION_SCHEMA = 9;
/** Static timestamp schemas of @smithy/core/schema. */
const TIMESTAMP_DATE_TIME = 5;
const TIMESTAMP_HTTP_DATE = 6;
const TIMESTAMP_EPOCH_SECONDS = 7;

const schemaCache = new Map<string, LoadedSchemas | undefined>();
const requireHere = createRequire(__filename);

/**
 * The client package and the `@smithy/core/schema` it uses (resolved from the client, so it is the copy whose
 * schema format the client's schemas are written in), or undefined when the package is not installed.
 */
function loadSchemas(clientPackage: string | undefined): LoadedSchemas | undefined {
  if (clientPackage === undefined) return undefined;
  if (!schemaCache.has(clientPackage)) {
    let loaded: LoadedSchemas | undefined;
    try {
      const entry = requireHere.resolve(clientPackage);
      const requireFromClient = createRequire(entry);
      loaded = { client: requireFromClient(entry), NormalizedSchema: requireFromClient('@smithy/core/schema').NormalizedSchema };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
      loaded = undefined;
    }
    schemaCache.set(clientPackage, loaded);
  }
  return schemaCache.get(clientPackage);
}

class BadAnswer extends Error {}

function writeOutput(wire: Wire, schema: SchemaNode | undefined, output: unknown): WireAnswer {
  if (output !== undefined && (output === null || typeof output !== 'object' || Array.isArray(output))) {
    throw new BadAnswer(`is ${describe(output)}; answer an object (the output) or undefined (an empty output)`);
  }
  const { protocol, operation, requestId } = wire;
  switch (protocol) {
    case 'awsJson1_0':
    case 'awsJson1_1': {
      const json = schema ? jsonValue(schema, output ?? {}, '') : plainJson(output ?? {});
      return { contentType: jsonContentType(protocol), body: JSON.stringify(json ?? {}) };
    }
    case 'awsQuery': {
      const result = schema
        ? (schema.isUnitSchema() ? undefined : xmlMembers(schema, output ?? {}, ''))
        : plainXml(output ?? {}, 'member', (name) => name);
      return {
        contentType: 'text/xml',
        body: `<${operation}Response xmlns="${xmlNamespace(wire)}">` +
          (result === undefined ? '' : `<${operation}Result>${result}</${operation}Result>`) +
          `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${operation}Response>`,
      };
    }
    case 'ec2Query': {
      const members = schema
        ? (schema.isUnitSchema() ? '' : xmlMembers(schema, output ?? {}, ''))
        : plainXml(output ?? {}, 'item', (name) => name.charAt(0).toLowerCase() + name.slice(1));
      return {
        contentType: 'text/xml',
        body: `<${operation}Response xmlns="${xmlNamespace(wire)}"><requestId>${requestId}</requestId>${members}</${operation}Response>`,
      };
    }
    default:
      throw new Error(`aws-standin: cannot write an output in protocol ${protocol}`);
  }
}

function writeError(wire: Wire, status: number, code: string, message: string): WireAnswer {
  const { protocol, requestId } = wire;
  switch (protocol) {
    case 'awsJson1_0':
    case 'awsJson1_1':
      return { contentType: jsonContentType(protocol), body: JSON.stringify({ __type: code, message }) };
    case 'ec2Query':
      return {
        contentType: 'text/xml',
        body: `<Response><Errors><Error><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error></Errors>` +
          `<RequestID>${requestId}</RequestID></Response>`,
      };
    case 'awsQuery':
    default:
      // Also for a request whose protocol is unknown: the XML error at least names the problem in the SDK's error.
      return {
        contentType: 'text/xml',
        body: `<ErrorResponse xmlns="${xmlNamespace(wire)}"><Error><Type>${status < 500 ? 'Sender' : 'Receiver'}</Type>` +
          `<Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      };
  }
}

function jsonContentType(protocol: 'awsJson1_0' | 'awsJson1_1'): string {
  return protocol === 'awsJson1_0' ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1';
}

function xmlNamespace(wire: Wire): string {
  return `http://${wire.service}.amazonaws.com/doc/${wire.version || 'unknown'}/`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Date) return 'a Date';
  if (value instanceof Uint8Array) return 'a Uint8Array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date) && !(value instanceof Uint8Array);
}

/** The members of a structure schema, checking that `value` has no other (a misspelt member fails the answer). */
function structMembers(schema: SchemaNode, value: unknown, path: string): Array<[string, SchemaNode, unknown]> {
  if (!isPlainObject(value)) throw new BadAnswer(`has ${describe(value)} at ${path || 'the top'}, where ${schema.getName() ?? 'a structure'} is expected`);
  const members = new Map(schema.structIterator());
  const unknown = Object.keys(value).filter((name) => !members.has(name) && name !== '$metadata');
  if (unknown.length > 0) {
    throw new BadAnswer(`has ${unknown.map((name) => join(path, name)).join(', ')}, which ${schema.getName() ?? 'the structure'} does not have ` +
      `(it has ${[...members.keys()].join(', ') || 'no members'})`);
  }
  return [...members].filter(([name]) => value[name] !== undefined && value[name] !== null).map(([name, member]) => [name, member, value[name]]);
}

function join(path: string, name: string | number): string {
  return typeof name === 'number' ? `${path}[${name}]` : path ? `${path}.${name}` : name;
}

/** `value` as the awsJson protocols write it for `schema`. */
function jsonValue(schema: SchemaNode, value: unknown, path: string): unknown {
  if (schema.isStructSchema()) {
    const out: Record<string, unknown> = {};
    for (const [name, member, memberValue] of structMembers(schema, value, path)) {
      out[name] = jsonValue(member, memberValue, join(path, name));
    }
    return out;
  }
  if (schema.isListSchema()) {
    if (!Array.isArray(value)) throw new BadAnswer(`has ${describe(value)} at ${path}, where a list is expected`);
    return value.map((item, i) => jsonValue(schema.getValueSchema(), item, join(path, i)));
  }
  if (schema.isMapSchema()) {
    if (!isPlainObject(value)) throw new BadAnswer(`has ${describe(value)} at ${path}, where a map is expected`);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonValue(schema.getValueSchema(), v, join(path, k))]));
  }
  if (schema.isDocumentSchema()) return value;
  return scalar(schema, value, path, TIMESTAMP_EPOCH_SECONDS);
}

/** The child elements of a structure as the query protocols write it for `schema`. */
function xmlMembers(schema: SchemaNode, value: unknown, path: string): string {
  return structMembers(schema, value, path)
    .map(([name, member, memberValue]) => xmlMember(member.getMemberTraits().xmlName ?? name, member, memberValue, join(path, name)))
    .join('');
}

function xmlMember(element: string, schema: SchemaNode, value: unknown, path: string): string {
  if ((schema.isListSchema() || schema.isMapSchema()) && schema.getMergedTraits().xmlFlattened) {
    return xmlCollection(schema, value, path, element);
  }
  return tag(element, xmlContent(schema, value, path));
}

function xmlContent(schema: SchemaNode, value: unknown, path: string): string {
  if (schema.isStructSchema()) return xmlMembers(schema, value, path);
  if (schema.isListSchema() || schema.isMapSchema()) return xmlCollection(schema, value, path);
  return escapeXml(String(scalar(schema, value, path, TIMESTAMP_DATE_TIME)));
}

/** List items (`<member>`, or the item's XML name) or map entries; a flattened one repeats `flatElement` instead. */
function xmlCollection(schema: SchemaNode, value: unknown, path: string, flatElement?: string): string {
  if (schema.isListSchema()) {
    if (!Array.isArray(value)) throw new BadAnswer(`has ${describe(value)} at ${path}, where a list is expected`);
    const item = schema.getValueSchema();
    const itemElement = flatElement ?? item.getMergedTraits().xmlName ?? 'member';
    return value.map((v, i) => tag(itemElement, xmlContent(item, v, join(path, i)))).join('');
  }
  if (!isPlainObject(value)) throw new BadAnswer(`has ${describe(value)} at ${path}, where a map is expected`);
  const keyElement = schema.getKeySchema().getMergedTraits().xmlName ?? 'key';
  const valueSchema = schema.getValueSchema();
  const valueElement = valueSchema.getMergedTraits().xmlName ?? 'value';
  return Object.entries(value)
    .map(([k, v]) => tag(flatElement ?? 'entry', tag(keyElement, escapeXml(k)) + tag(valueElement, xmlContent(valueSchema, v, join(path, k)))))
    .join('');
}

/** A scalar as the protocol writes it: timestamps in their schema's format (else `defaultTimestamp`), blobs in base64. */
function scalar(schema: SchemaNode, value: unknown, path: string, defaultTimestamp: number): string | number | boolean {
  const expected = (what: string): BadAnswer => new BadAnswer(`has ${describe(value)} at ${path}, where ${what} is expected`);
  if (schema.isTimestampSchema()) {
    if (typeof value === 'string' || typeof value === 'number') return value;
    if (!(value instanceof Date)) throw expected('a Date');
    const format = [TIMESTAMP_DATE_TIME, TIMESTAMP_HTTP_DATE, TIMESTAMP_EPOCH_SECONDS].includes(schema.getSchema() as number)
      ? schema.getSchema() as number : defaultTimestamp;
    if (format === TIMESTAMP_EPOCH_SECONDS) return value.getTime() / 1000;
    return format === TIMESTAMP_HTTP_DATE ? value.toUTCString() : value.toISOString();
  }
  if (schema.isBlobSchema()) {
    if (typeof value === 'string') return Buffer.from(value, 'utf8').toString('base64');
    if (!(value instanceof Uint8Array)) throw expected('a Uint8Array');
    return Buffer.from(value).toString('base64');
  }
  if (schema.isBooleanSchema()) {
    if (typeof value !== 'boolean') throw expected('a boolean');
    return value;
  }
  if (schema.isNumericSchema() || schema.isBigIntegerSchema() || schema.isBigDecimalSchema()) {
    if (typeof value !== 'number' && typeof value !== 'bigint' && typeof value !== 'string') throw expected('a number');
    return typeof value === 'bigint' ? value.toString() : value;
  }
  if (typeof value !== 'string') throw expected('a string');
  return value;
}

/** JSON without a schema: Dates as epoch seconds, bytes in base64. */
function plainJson(value: unknown): unknown {
  if (value instanceof Date) return value.getTime() / 1000;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(plainJson);
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plainJson(v)]));
  return value;
}

/** XML without a schema: elements named by `name(member)`, list items as `itemElement`, Dates in ISO 8601. */
function plainXml(value: unknown, itemElement: string, name: (member: string) => string): string {
  if (Array.isArray(value)) return value.map((item) => tag(itemElement, plainXml(item, itemElement, name))).join('');
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (isPlainObject(value)) {
    return Object.entries(value)
      .filter(([, v]) => v !== undefined && v !== null)
      .map(([k, v]) => tag(name(k), plainXml(v, itemElement, name)))
      .join('');
  }
  return escapeXml(String(value));
}

function tag(name: string, content: string): string {
  return `<${name}>${content}</${name}>`;
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
