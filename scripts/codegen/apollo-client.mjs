// Apollo Client 3 against a running, seeded talentgraph: the article's five
// queries through the client's normalized cache, then an automatic persisted
// query round trip over POST and over GET.
//
//   node apollo-client.mjs http://127.0.0.1:8080/graphql
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';

const require = createRequire(import.meta.url);
const { ApolloClient, InMemoryCache, HttpLink, gql } = require('@apollo/client/core/core.cjs');
const { createPersistedQueryLink } = require('@apollo/client/link/persisted-queries/persisted-queries.cjs');

const url = process.argv[2];
const sha256 = (text) => createHash('sha256').update(text).digest('hex');

// Every request the client sends, to see what went over the wire.
const sent = [];
const recordingFetch = async (input, init) => {
  const target = new URL(typeof input === 'string' ? input : input.url);
  sent.push({ method: init?.method ?? 'GET', params: target.searchParams, body: init?.body ? JSON.parse(init.body) : null });
  return fetch(input, init);
};

const client = (link) => new ApolloClient({ link, cache: new InMemoryCache() });
const plain = client(new HttpLink({ uri: url, fetch: recordingFetch }));

const names = (people) => people.map((p) => p.name).sort();

// 1. Of the LLaMA paper's 14 authors, 3 are still inside Meta and 11 have left.
const one = await plain.query({ query: gql`{ publication(ref: {slug: "llama-2023"}) {
  retention(of: {slug: "meta"}) { total stayed { name } left { name } } } }` });
const retention = one.data.publication.retention;
assert.equal(retention.total, 14);
assert.equal(retention.stayed.length, 3);
assert.equal(retention.left.length, 11);

// 2. Five are now at Mistral, the rest elsewhere, with their titles.
const two = await plain.query({ query: gql`{ publication(slug: "llama-2023") { retention(organization: "meta") {
  destinations { to { name } count people { name currentEmployments { title organization { name } } } } } } }` });
const destinations = two.data.publication.retention.destinations;
assert.equal(destinations[0].to.name, 'Mistral AI');
assert.equal(destinations[0].count, 5);
assert.deepEqual(
  new Set(destinations.map((d) => d.to.name)),
  new Set(['Mistral AI', 'Thinking Machines Lab', 'Cohere', 'Anthropic', 'Google DeepMind', 'Microsoft AI', 'Kyutai']),
);

// 3. Mistral's co-founders.
const three = await plain.query({ query: gql`{ organization(ref: {slug: "mistral"}) { founders { name } } }` });
assert.deepEqual(names(three.data.organization.founders), ['Arthur Mensch', 'Guillaume Lample', 'Timothée Lacroix']);

// 4. FAIR is a unit of Meta; Joelle Pineau led it, Robert Fergus followed.
const four = await plain.query({ query: gql`{ organization(slug: "fair") { parent { name } leaders { isCurrent person { name } } } }` });
assert.equal(four.data.organization.parent.name, 'Meta');
const leaders = four.data.organization.leaders.map((l) => l.person.name);
assert.ok(leaders.includes('Joelle Pineau') && leaders.includes('Robert Fergus'), leaders.join(', '));

// 5. Meta's outbound talent flow lists Mistral first, with 5 people.
const five = await plain.query({ query: gql`{ organization(slug: "meta") { talentFlows(direction: OUTBOUND) { to { name } count } } }` });
assert.equal(five.data.organization.talentFlows[0].to.name, 'Mistral AI');
assert.equal(five.data.organization.talentFlows[0].count, 5);

// Automatic persisted queries: the first client's hash is unknown, so it
// sends the query; a second client then gets the answer from the hash alone.
const apq = gql`query Founders { organization(ref: {slug: "mistral"}) { founders { name } } }`;
for (const useGETForHashedQueries of [false, true]) {
  // A query text of its own for each pass, so the GET pass starts unknown.
  const query = useGETForHashedQueries
    ? gql`query FoundersOverGet { organization(ref: {slug: "mistral"}) { founders { name } } }`
    : apq;
  const link = () => createPersistedQueryLink({ sha256, useGETForHashedQueries })
    .concat(new HttpLink({ uri: url, fetch: recordingFetch }));
  sent.length = 0;
  const first = await client(link()).query({ query });
  assert.deepEqual(names(first.data.organization.founders), ['Arthur Mensch', 'Guillaume Lample', 'Timothée Lacroix']);
  assert.equal(sent.length, 2, 'the hash alone, then the query with its hash');
  const hashOf = (request) => (request.body?.extensions ?? JSON.parse(request.params.get('extensions') ?? '{}'))
    .persistedQuery?.sha256Hash;
  assert.equal(sent[0].method, useGETForHashedQueries ? 'GET' : 'POST');
  assert.equal(sent[0].body?.query ?? sent[0].params.get('query') ?? undefined, undefined);
  assert.ok(sent[1].body.query.includes('founders'));
  assert.equal(hashOf(sent[1]), hashOf(sent[0]));

  sent.length = 0;
  const second = await client(link()).query({ query });
  assert.deepEqual(second.data, first.data);
  assert.equal(sent.length, 1, 'the hash alone was enough');
  assert.equal(sent[0].method, useGETForHashedQueries ? 'GET' : 'POST');
}

console.log(`Apollo Client ${require('@apollo/client/package.json').version}: the article's five queries and an APQ round trip over POST and GET against ${url}: ok`);
