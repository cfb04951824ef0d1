/**
 * CloudFormation's intrinsic functions, resolved against a created stack: what a value of the
 * template is once the stack exists (Ref, Fn::GetAtt, Fn::Sub, Fn::Join). The attributes are the ones
 * the relay's template reads; anything else is an error, never a guess.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference.html
 */

/** What a deployed stack tells about its resources: logical id -> type and physical id. */
export interface StackFacts {
  readonly region: string;
  readonly account: string;
  readonly partition: string;
  readonly stackName: string;
  readonly resources: Readonly<Record<string, { readonly type: string; readonly physicalId: string }>>;
}

const PSEUDO: Readonly<Record<string, (facts: StackFacts) => string>> = {
  'AWS::Region': (f) => f.region,
  'AWS::AccountId': (f) => f.account,
  'AWS::Partition': (f) => f.partition,
  'AWS::URLSuffix': () => 'amazonaws.com',
  'AWS::StackName': (f) => f.stackName,
};

const lastSegment = (url: string): string => url.split('/').pop() ?? url;

/** The attributes the template reads, by resource type. */
const ATTRIBUTES: Readonly<Record<string, Readonly<Record<string, (physicalId: string, f: StackFacts) => string>>>> = {
  'AWS::SQS::Queue': {
    Arn: (id, f) => `arn:${f.partition}:sqs:${f.region}:${f.account}:${lastSegment(id)}`,
    QueueName: (id) => lastSegment(id),
    QueueUrl: (id) => id,
  },
  'AWS::DynamoDB::Table': { Arn: (id, f) => `arn:${f.partition}:dynamodb:${f.region}:${f.account}:table/${id}` },
  'AWS::IAM::Role': { Arn: (id, f) => `arn:${f.partition}:iam::${f.account}:role/${id}` },
  'AWS::Lambda::Function': { Arn: (id, f) => `arn:${f.partition}:lambda:${f.region}:${f.account}:function:${id}` },
  'AWS::SNS::Topic': { TopicName: (id) => lastSegment(id.replace(/:/g, '/')) },
  'AWS::S3::Bucket': { Arn: (id, f) => `arn:${f.partition}:s3:::${id}` },
  'AWS::CloudWatch::Alarm': { Arn: (id, f) => `arn:${f.partition}:cloudwatch:${f.region}:${f.account}:alarm:${id}` },
};

const attribute = (facts: StackFacts, logicalId: string, name: string): string => {
  const resource = facts.resources[logicalId];
  if (resource === undefined) throw new Error(`Fn::GetAtt ${logicalId}.${name}: no such resource in the stack`);
  const read = ATTRIBUTES[resource.type]?.[name];
  if (read === undefined) throw new Error(`Fn::GetAtt ${logicalId}.${name}: not modelled for ${resource.type}`);
  return read(resource.physicalId, facts);
};

const ref = (facts: StackFacts, name: string): string => {
  const pseudo = PSEUDO[name];
  if (pseudo !== undefined) return pseudo(facts);
  const resource = facts.resources[name];
  if (resource === undefined) throw new Error(`Ref ${name}: no such resource in the stack`);
  return resource.physicalId;
};

/** `${Name}`, `${Name.Attribute}` and `${AWS::Region}` in an Fn::Sub string. */
const substitute = (facts: StackFacts, text: string, variables: Readonly<Record<string, string>> = {}): string =>
  text.replace(/\$\{([^}!][^}]*)\}/g, (_whole, name: string) => {
    if (variables[name] !== undefined) return variables[name] as string;
    if (PSEUDO[name] !== undefined || !name.includes('.')) return ref(facts, name);
    const [logicalId = '', ...rest] = name.split('.');
    return attribute(facts, logicalId, rest.join('.'));
  });

/** `value` with every intrinsic function replaced by what it resolves to in the stack. */
export const resolveIntrinsics = (value: unknown, facts: StackFacts): unknown => {
  if (Array.isArray(value)) return value.map((item) => resolveIntrinsics(item, facts));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  const [only] = entries;
  if (entries.length === 1 && only !== undefined) {
    const [fn, argument] = only;
    if (fn === 'Ref') return ref(facts, String(argument));
    if (fn === 'Fn::GetAtt') {
      const [logicalId, name] = Array.isArray(argument) ? argument : String(argument).split('.');
      return attribute(facts, String(logicalId), String(name));
    }
    if (fn === 'Fn::Sub') {
      if (typeof argument === 'string') return substitute(facts, argument);
      const [text, variables] = argument as [string, Record<string, unknown>];
      const resolved = Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, String(resolveIntrinsics(v, facts))]));
      return substitute(facts, text, resolved);
    }
    if (fn === 'Fn::Join') {
      const [separator, parts] = argument as [string, unknown[]];
      return parts.map((part) => String(resolveIntrinsics(part, facts))).join(separator);
    }
    if (fn.startsWith('Fn::')) throw new Error(`${fn} is not modelled`);
  }
  return Object.fromEntries(entries.map(([key, child]) => [key, resolveIntrinsics(child, facts)]));
};
