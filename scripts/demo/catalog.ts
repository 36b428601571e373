/**
 * The demo's people and tasks: believable developers (a name, a specialty's skills, a bio, an
 * hourly rate), client companies and the tasks they post. Pure and deterministic: the n-th
 * developer is the same person on every run, which is what makes `deno task demo` repeatable.
 *
 * @module
 */

/** A developer to create. */
export interface DemoDeveloper {
  /** The login (`demo.dev.<n>@example.com`). */
  email: string;
  /** First and last name. */
  displayName: string;
  /** A sentence on what they do. */
  bio: string;
  /** Their specialty's skill tags. */
  skills: string[];
  /** Hourly rate in US cents. */
  hourlyRateMinor: number;
}

/** A client company to create. */
export interface DemoClient {
  /** The login (`demo.client.<n>@example.com`). */
  email: string;
  /** The company's name. */
  displayName: string;
}

/** A task a client posts. */
export interface DemoTask {
  /** Index of the client posting it. */
  client: number;
  /** Its title, unique per client (how a second run recognises it). */
  title: string;
  /** What is wanted. */
  description: string;
  /** Required skills (from one specialty, so that its developers match). */
  skills: string[];
  /** Budget in US cents. */
  budgetMinor: number;
  /** Days from now to the deadline. */
  deadlineDays: number;
}

const FIRST = [
  "Amara",
  "Lukas",
  "Priya",
  "Mateo",
  "Sofia",
  "Kenji",
  "Hannah",
  "Omar",
  "Chloé",
  "Daniel",
  "Ingrid",
  "Tomás",
  "Aisha",
  "Noah",
  "Mei",
  "Felix",
  "Zara",
  "Luca",
  "Elena",
  "Jonas",
];
const LAST = [
  "Okafor",
  "Novak",
  "Raman",
  "García",
  "Rossi",
  "Watanabe",
  "Müller",
  "Haddad",
  "Martin",
  "Kim",
  "Larsen",
  "Silva",
  "Bello",
  "Schmidt",
  "Chen",
  "Wagner",
  "Ahmed",
  "Bianchi",
  "Popescu",
  "Berg",
];

interface Specialty {
  name: string;
  skills: string[];
  bio: string;
  rate: [number, number];
  tasks: { title: string; description: string; skills: number[]; budget: number }[];
}

const SPECIALTIES: Specialty[] = [
  {
    name: "backend",
    skills: ["go", "postgresql", "grpc", "redis"],
    bio: "Backend engineer: Go services, PostgreSQL tuning and APIs that stay up.",
    rate: [70, 140],
    tasks: [
      {
        title: "Build a gRPC API for order tracking",
        description:
          "Expose our order status over gRPC with streaming updates; PostgreSQL behind it.",
        skills: [0, 2],
        budget: 4200,
      },
      {
        title: "Speed up our slowest PostgreSQL queries",
        description: "Three reports time out at month end. Find the indexes and rewrites.",
        skills: [1],
        budget: 1800,
      },
      {
        title: "Add rate limiting to a Go service",
        description: "Per-customer limits backed by Redis, with metrics.",
        skills: [0, 3],
        budget: 1500,
      },
    ],
  },
  {
    name: "frontend",
    skills: ["typescript", "react", "css", "accessibility"],
    bio: "Frontend developer who cares about fast, accessible interfaces.",
    rate: [55, 120],
    tasks: [
      {
        title: "Redesign the checkout page in React",
        description: "Fewer steps, clear errors, works on phones. Figma designs are ready.",
        skills: [0, 1],
        budget: 3000,
      },
      {
        title: "Fix accessibility issues in our sign-up form",
        description: "An audit found 14 WCAG issues: labels, focus order, contrast.",
        skills: [3],
        budget: 900,
      },
      {
        title: "Build an analytics dashboard with charts",
        description: "Six charts from our JSON API, filters by date and region.",
        skills: [0, 1, 2],
        budget: 2600,
      },
    ],
  },
  {
    name: "data",
    skills: ["python", "sql", "airflow", "pandas"],
    bio: "Data engineer: pipelines, warehouses and numbers people can trust.",
    rate: [60, 130],
    tasks: [
      {
        title: "ETL from Stripe into our warehouse",
        description: "Nightly Airflow job, idempotent, with alerts on failure.",
        skills: [0, 2],
        budget: 2800,
      },
      {
        title: "Deduplicate our customer records",
        description: "40k customers, many entered twice with typos. Propose and run a merge.",
        skills: [0, 3],
        budget: 1600,
      },
    ],
  },
  {
    name: "mobile",
    skills: ["swift", "kotlin", "react-native", "firebase"],
    bio: "Mobile developer shipping iOS and Android apps since 2015.",
    rate: [65, 135],
    tasks: [
      {
        title: "Add push notifications to our iOS app",
        description: "Order updates and reminders through Firebase; opt-in screen included.",
        skills: [0, 3],
        budget: 2000,
      },
      {
        title: "Fix crashes in our Android app",
        description: "Crashlytics shows three top crashes on Android 14. Reproduce and fix.",
        skills: [1],
        budget: 1200,
      },
    ],
  },
  {
    name: "devops",
    skills: ["terraform", "aws", "kubernetes", "prometheus"],
    bio: "Platform engineer: infrastructure as code, clusters and alerts that mean something.",
    rate: [75, 150],
    tasks: [
      {
        title: "Terraform our AWS account",
        description: "VPC, RDS and ECS are hand-made today. Import them into Terraform modules.",
        skills: [0, 1],
        budget: 3500,
      },
      {
        title: "Prometheus alerts for our Kubernetes cluster",
        description: "Sensible alerts and a Grafana dashboard; we get paged for nothing today.",
        skills: [2, 3],
        budget: 1400,
      },
    ],
  },
];

const COMPANIES = [
  "Northwind Traders",
  "Blue Fern Studio",
  "Harbor Analytics",
  "Kite Logistics",
  "Maple Health",
  "Orbit Games",
  "Pinecone Bakery",
  "Quartz Legal",
  "Riverstone Realty",
  "Solace Travel",
];

/**
 * The n-th developer (0-based).
 *
 * @example
 * ```ts
 * demoDeveloper(0).displayName; // "Amara Okafor"
 * ```
 */
export function demoDeveloper(n: number): DemoDeveloper {
  const specialty = SPECIALTIES[n % SPECIALTIES.length];
  const first = FIRST[n % FIRST.length];
  const last = LAST[(n * 7 + Math.floor(n / FIRST.length)) % LAST.length];
  const [low, high] = specialty.rate;
  const rate = low + ((n * 37) % (high - low + 1));
  return {
    email: `demo.dev.${n + 1}@example.com`,
    displayName: `${first} ${last}`,
    bio: specialty.bio,
    skills: specialty.skills,
    hourlyRateMinor: rate * 100,
  };
}

/**
 * The n-th client company (0-based).
 *
 * @example
 * ```ts
 * demoClient(0); // { email: "demo.client.1@example.com", displayName: "Northwind Traders" }
 * ```
 */
export function demoClient(n: number): DemoClient {
  const name = COMPANIES[n % COMPANIES.length] +
    (n >= COMPANIES.length ? ` ${Math.floor(n / COMPANIES.length) + 1}` : "");
  return { email: `demo.client.${n + 1}@example.com`, displayName: name };
}

/**
 * The tasks `clients` clients post, `count` in all, spread over clients and specialties.
 *
 * @example
 * ```ts
 * demoTasks(6, 2).length; // 6
 * ```
 */
export function demoTasks(count: number, clients: number): DemoTask[] {
  const all = SPECIALTIES.flatMap((s) => s.tasks.map((t) => ({ s, t })));
  const tasks: DemoTask[] = [];
  for (let i = 0; i < count; i++) {
    const { s, t } = all[i % all.length];
    const round = Math.floor(i / all.length);
    tasks.push({
      client: i % clients,
      title: round === 0 ? t.title : `${t.title} (part ${round + 1})`,
      description: t.description,
      skills: t.skills.map((k) => s.skills[k]),
      budgetMinor: (t.budget + round * 250) * 100,
      deadlineDays: 7 + (i * 5) % 30,
    });
  }
  return tasks;
}
