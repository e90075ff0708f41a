// A small typed client: it compiles only if the types generated from
// schema.graphql say what the API answers. scripts/codegen-check.sh copies it
// beside the generated graphql.ts and runs `tsc --noEmit --strict` on both.
import type {
  HeadlineQuery,
  InsideOnQueryVariables,
  RetentionQuery,
  RetentionQueryVariables,
  SourcesQuery,
  SourcesQueryVariables,
  TokensQuery,
} from "./graphql";
import type { Scalars } from "./schema";

async function request<Data, Variables>(query: string, variables: Variables): Promise<Data> {
  const response = await fetch("http://127.0.0.1:8080/graphql", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data: Data };
  return body.data;
}

export async function headline(query: string): Promise<string> {
  const data = await request<HeadlineQuery, Record<string, never>>(query, {});
  const retention = data.publication?.retention;
  if (!retention) return "no such publication";
  const left: number = retention.left.length;
  const total: number = retention.total;
  const top = retention.destinations[0];
  const where: string = top ? `${top.count} to ${top.to.name}` : "nowhere";
  return `${left} of ${total} have left, ${where}`;
}

export async function retentionById(query: string, organizationId: string): Promise<number> {
  const variables: RetentionQueryVariables = {
    publication: { slug: "llama-2023" },
    organization: { id: organizationId },
  };
  const data = await request<RetentionQuery, RetentionQueryVariables>(query, variables);
  // A partial date is a string at the precision known: "2023", "2023-02", "2023-02-27".
  const published: string | null | undefined = data.publication?.publishedOn;
  void published;
  return data.publication?.retention.total ?? 0;
}

export async function allSources(query: string): Promise<string[]> {
  const urls: string[] = [];
  let after: string | null | undefined = null;
  for (;;) {
    const variables: SourcesQueryVariables = {
      where: { url: { startsWith: "https://" } },
      first: 20,
      after,
    };
    const data: SourcesQuery = await request<SourcesQuery, SourcesQueryVariables>(query, variables);
    for (const source of data.sources.nodes) urls.push(source.url);
    if (!data.sources.pageInfo.hasNextPage) return urls;
    after = data.sources.pageInfo.endCursor;
  }
}

export function insideOn(day: Scalars["Date"]["input"]): InsideOnQueryVariables {
  // @ts-expect-error NO is no certainty a filter can ask for.
  const refused: InsideOnQueryVariables = { organization: { slug: "meta" }, at: day, certainty: "NO" };
  void refused;
  return { organization: { slug: "meta" }, at: day, certainty: "CERTAINLY" };
}

export function tokenAges(data: TokensQuery, now: Date): number[] {
  // DateTime is an RFC 3339 string, which Date parses.
  return data.apiTokens.map((token) => now.getTime() - new Date(token.createdTimestamp).getTime());
}
