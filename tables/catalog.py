"""The CSR output shells for a phase I CAR-T study (ICH E3 section 14 numbering), as data.

Each entry names its datasets, variables and PARAMCDs; rename an ADaM variable here and nowhere else.
"""
from __future__ import annotations

from .spec import (AEHierarchy, Binomial, ByColumns, Categorical, Columns, Continuous, DoseEscalation,
                   FigureSpec, Header, KMPlot, MeanConcentration, ParameterByGroup, ParamStats, Population,
                   Spider, Split, SubjectsWith, SubjectVar, Swimmer, TableSpec, TimeToEvent, Waterfall)

ENROLLED = Population("Enrolled Set", "ENRLFL == 'Y'")
SAFETY = Population("Safety Analysis Set", "SAFFL == 'Y'")
EFFICACY = Population("Efficacy Analysis Set", "EFFFL == 'Y'")
PK = Population("PK Analysis Set", "PKFL == 'Y'")

# Columns: one per actual dose level x route (TRT01A, ordered by TRT01AN; Part A escalation and Part B
# expansion pooled) headed by its dose level under a spanning route header, plus Total; the dose of each
# level is spelt out once in a footnote (from ACTARM, "Part A Intravenous DL1: 1.0 x 10^6 CAR+ T cells/kg").
COHORT_LABEL = "{DOSELVL}"
COHORT_SPAN = "{ROUTE:title}"
DOSE_LEGEND = "{DOSELVL} = {ACTARM:after=: }"
TRT = Columns(var="TRT01A", order="TRT01AN", total="Total", label=COHORT_LABEL, span=COHORT_SPAN,
              legend=DOSE_LEGEND)
TRT_ENROLLED = Columns(var="TRT01A", order="TRT01AN", total="Total", fallback="Not treated", label=COHORT_LABEL,
                       span=COHORT_SPAN, legend=DOSE_LEGEND)
COHORT_ROW = "{ROUTE:title} {DOSELVL}"                  # row label where cohorts are rows
ROUTE_GROUP = "{ROUTE:title}"                           # figure groups: too few subjects per cohort for KM
TEAE = "TRTEMFL == 'Y'"
GRADE3 = "ATOXGRN >= 3"
DEATH_AE = "AESDTH == 'Y' or ATOXGRN == 5 or AEOUT == 'FATAL'"
RACE_LEVELS = {"AMERICAN INDIAN OR ALASKA NATIVE": "American Indian or Alaska Native", "ASIAN": "Asian",
               "BLACK OR AFRICAN AMERICAN": "Black or African American",
               "NATIVE HAWAIIAN OR OTHER PACIFIC ISLANDER": "Native Hawaiian or Other Pacific Islander",
               "WHITE": "White", "MULTIPLE": "Multiple", "OTHER": "Other", "NOT REPORTED": "Not reported",
               "UNKNOWN": "Unknown"}
ETHNIC_LEVELS = {"HISPANIC OR LATINO": "Hispanic or Latino", "NOT HISPANIC OR LATINO": "Not Hispanic or Latino",
                 "NOT REPORTED": "Not reported", "UNKNOWN": "Unknown"}
BOR_LEVELS = {"CR": "Complete response (CR)", "PR": "Partial response (PR)", "SD": "Stable disease (SD)",
              "NON-CR/NON-PD": "Non-CR/non-PD", "PD": "Progressive disease (PD)", "NE": "Not evaluable (NE)"}
ASTCT = {1.0: "Grade 1", 2.0: "Grade 2", 3.0: "Grade 3", 4.0: "Grade 4", 5.0: "Grade 5"}
CTCAE_FOOT = "Adverse events coded with MedDRA; severity graded with NCI CTCAE v5.0."
TEAE_FOOT = "Treatment-emergent: onset on or after CAR-T infusion (TRTEMFL = 'Y')."
PCT_FOOT = "Percentages use the number of subjects in the column (N) as denominator."
KM_FOOT = ("Kaplan-Meier estimates; 95% CI for the median by Brookmeyer-Crowley and for rates by "
           "Greenwood's variance, both with the log(-log) transformation (as SAS PROC LIFETEST).")
MONTH_FOOT = "1 month = 30.4375 days. NE = not estimable."


def _tte(paramcd: str, label: str) -> TimeToEvent:
    return TimeToEvent(paramcd=paramcd, label=label)


def _crs_icans(flag: str, name: str) -> tuple:
    where = f"{TEAE} and {flag} == 'Y'"
    return (
        SubjectsWith(f"Subjects with {name}", "ADAE", where),
        Categorical("ASTCTGRN", f"Maximum ASTCT grade of {name}", dataset="ADAE", where=where, agg="max",
                    levels=ASTCT, missing_label=None, indent=1),
        Continuous("ASTDY", f"Time to onset of first {name} (days)", dataset="ADAE", where=where,
                   agg="first", order_by=("ASTDT", "ASTDY"), stats=("n", "median_range"), indent=1),
        Continuous("ADURN", f"Duration of {name} episodes (days)", dataset="ADAE", where=where,
                   per_record=True, stats=("n", "median_range"), indent=1),
    )


TABLES: tuple[TableSpec, ...] = (
    TableSpec("14.1.1", "Subject Disposition and Analysis Populations", ENROLLED, ByColumns(columns=TRT_ENROLLED, blocks=(
        Header("Analysis populations"),
        SubjectsWith("Enrolled Set", "ADSL", "ENRLFL == 'Y'", indent=1),
        SubjectsWith("Safety Analysis Set", "ADSL", "SAFFL == 'Y'", indent=1),
        SubjectsWith("DLT-evaluable subjects", "ADSL", "DLTEVLFL == 'Y'", indent=1),
        SubjectsWith("Efficacy Analysis Set", "ADSL", "EFFFL == 'Y'", indent=1),
        SubjectsWith("PK Analysis Set", "ADSL", "PKFL == 'Y'", indent=1),
        Categorical("EOSSTT", "End of study status", levels={"COMPLETED": "Completed", "ONGOING": "Ongoing",
                                                              "DISCONTINUED": "Discontinued"}),
        Categorical("DCSREAS", "Reason for discontinuation", where="EOSSTT == 'DISCONTINUED'",
                    missing_label=None, case="sentence", indent=1),
    )), footnotes=(PCT_FOOT,)),
    TableSpec("14.1.2", "Demographics and Baseline Characteristics", SAFETY, ByColumns(columns=TRT, blocks=(
        Continuous("AGE", "Age (years)"),
        Categorical("AGEGR1", "Age group (years)", levels=["<65", ">=65"]),
        Categorical("SEX", "Sex", levels={"F": "Female", "M": "Male"}),
        Categorical("RACE", "Race", levels=RACE_LEVELS, case="sentence", show_empty=False),
        Categorical("ETHNIC", "Ethnicity", levels=ETHNIC_LEVELS, case="sentence", show_empty=False),
        Categorical("ECOGBL", "ECOG performance status at baseline", levels={0.0: "0", 1.0: "1", 2.0: "2"}),
    )), footnotes=(PCT_FOOT,)),
    TableSpec("14.1.3", "Baseline Disease Characteristics", SAFETY, ByColumns(columns=TRT, blocks=(
        Categorical("TUMTYPE", "Tumour type", case="sentence"),
        Categorical("CD70IHC", "CD70 IHC intensity", levels=["0", "1+", "2+", "3+"]),
        Continuous("CD70PCT", "CD70-positive tumour cells (%)"),
        Continuous("PRIORLN", "Number of prior lines of therapy", decimals=1),
        Categorical("PRIORLN", "Prior lines of therapy", levels={1.0: "1", 2.0: "2", 3.0: "3", 4.0: "4",
                                                                 5.0: ">=5"}),
    )), footnotes=(PCT_FOOT,)),
    TableSpec("14.2.1.1", "Best Overall Response, Objective Response Rate and Disease Control Rate",
              EFFICACY, ByColumns(columns=TRT, blocks=(
        Categorical("AVALC", "Best overall response (RECIST 1.1)", dataset="ADRS", where="PARAMCD == 'BOR'",
                    levels=BOR_LEVELS, missing_label="No post-baseline assessment"),
        Binomial("Objective response rate (CR + PR), n (%)", "ADRS", "PARAMCD == 'RSP' and AVALC == 'Y'"),
        Binomial("Disease control rate (CR + PR + SD), n (%)", "ADRS", "PARAMCD == 'CB' and AVALC == 'Y'"),
    )), requires=("ADSL", "ADRS"),
        footnotes=("95% CI: exact (Clopper-Pearson) binomial confidence interval.", PCT_FOOT)),
    TableSpec("14.2.1.2", "Duration of Response (Responders)", EFFICACY, ByColumns(columns=TRT, blocks=(
        _tte("DOR", "Duration of response"),)), requires=("ADSL", "ADTTE"),
        footnotes=("Duration of response: first CR/PR to progression or death.", KM_FOOT, MONTH_FOOT)),
    TableSpec("14.2.2.1", "Progression-Free Survival", EFFICACY, ByColumns(columns=TRT, blocks=(
        _tte("PFS", "Progression-free survival"),)), requires=("ADSL", "ADTTE"), footnotes=(KM_FOOT, MONTH_FOOT)),
    TableSpec("14.2.2.2", "Overall Survival", EFFICACY, ByColumns(columns=TRT, blocks=(
        _tte("OS", "Overall survival"),)), requires=("ADSL", "ADTTE"), footnotes=(KM_FOOT, MONTH_FOOT)),
    TableSpec("14.2.3.1", "Transgene Pharmacokinetic Parameters by Dose Level", PK, ParameterByGroup(
        dataset="ADPP", params=(
            ParamStats("CMAX", "Cmax"),
            ParamStats("TMAX", "Tmax", stats=("n", "median", "min", "max"), sig=None, decimals=1),
            ParamStats("AUC28D", "AUC0-28d"),
            ParamStats("AUC90D", "AUC0-90d"),
        ), group_label=COHORT_ROW), requires=("ADSL", "ADPP"),
        footnotes=("Geo. CV% = sqrt(exp(s^2) - 1) x 100, s = SD of log-transformed values.",
                   "Values shown to 3 significant figures.",
                   "Tmax summarised by median, minimum and maximum only.")),
    TableSpec("14.3.1.1", "Overview of Treatment-Emergent Adverse Events", SAFETY, ByColumns(columns=TRT, blocks=(
        SubjectsWith("Any TEAE", "ADAE", TEAE),
        SubjectsWith("TEAE of CTCAE grade >=3", "ADAE", f"{TEAE} and {GRADE3}"),
        SubjectsWith("Serious TEAE", "ADAE", f"{TEAE} and AESER == 'Y'"),
        SubjectsWith("Dose-limiting toxicity", "ADAE", "DLTFL == 'Y'"),
        SubjectsWith("Cytokine release syndrome", "ADAE", f"{TEAE} and CRSFL == 'Y'"),
        SubjectsWith("ICANS", "ADAE", f"{TEAE} and ICANSFL == 'Y'"),
        SubjectsWith("TEAE leading to death", "ADAE", f"{TEAE} and ({DEATH_AE})"),
    )), requires=("ADSL", "ADAE"), footnotes=(TEAE_FOOT, CTCAE_FOOT, PCT_FOOT)),
    # TEAEs by SOC/PT: any grade and grade >=3 as two tables with the same cohort columns (side by side
    # they would need 22 data columns, unreadable on a landscape page).
    TableSpec("14.3.1.2.1", "Treatment-Emergent Adverse Events by System Organ Class and Preferred Term "
              "(Any CTCAE Grade)", SAFETY, ByColumns(columns=TRT, stub_header="System organ class / Preferred term",
                                                     blocks=(AEHierarchy(where=TEAE, any_label=
                                                                         "Subjects with at least one TEAE"),)),
              requires=("ADSL", "ADAE"),
              footnotes=("A subject is counted once per SOC and once per PT.",
                         "Sorted by descending frequency in the Total column, then alphabetically.",
                         TEAE_FOOT, CTCAE_FOOT, PCT_FOOT)),
    TableSpec("14.3.1.2.2", "Treatment-Emergent Adverse Events by System Organ Class and Preferred Term "
              "(Maximum CTCAE Grade >=3)", SAFETY,
              ByColumns(columns=TRT, stub_header="System organ class / Preferred term",
                        blocks=(AEHierarchy(where=f"{TEAE} and {GRADE3}",
                                            any_label="Subjects with at least one TEAE of grade >=3"),)),
              requires=("ADSL", "ADAE"),
              footnotes=("A subject is counted once per SOC and PT if the maximum CTCAE grade of that term is >=3.",
                         "Sorted by descending frequency in the Total column, then alphabetically.",
                         TEAE_FOOT, CTCAE_FOOT, PCT_FOOT)),
    TableSpec("14.3.1.3", "Dose-Limiting Toxicities and 3+3 Dose-Escalation Decisions", SAFETY,
              DoseEscalation(label=COHORT_ROW, route_label=ROUTE_GROUP,
                             describe=(("Dose", "{ACTARM:after=: }"),), escalation_where="PART == 'A'",
                             expansion_where="PART == 'B'"),
              requires=("ADSL", "ADAE"),
              footnotes=("3+3 rules: 0/3 escalate; 1/3 expand to 6; <=1/6 escalate; >=2/3 or >=2/6 "
                         "MTD exceeded (de-escalate).",
                         "DLT: events flagged DLTFL = 'Y' within the 28-day DLT window in DLT-evaluable subjects.",
                         "MTD: highest dose level with <=1/6 DLT below a level that exceeded it; decisions per route.",
                         "Part A (dose escalation) subjects only; Part B expansion subjects are not DLT-evaluable.")),
    TableSpec("14.3.1.4", "Cytokine Release Syndrome and ICANS by Maximum ASTCT Grade", SAFETY,
              ByColumns(columns=TRT, blocks=_crs_icans("CRSFL", "CRS") + _crs_icans("ICANSFL", "ICANS")),
              requires=("ADSL", "ADAE"),
              footnotes=("CRS and ICANS graded by ASTCT consensus criteria (Lee 2019).",
                         "Onset: study day of the first episode; duration per episode.", PCT_FOOT)),
    TableSpec("14.3.2.1", "Serious Treatment-Emergent Adverse Events by System Organ Class and Preferred Term",
              SAFETY, ByColumns(columns=TRT, stub_header="System organ class / Preferred term", blocks=(
                  AEHierarchy(where=f"{TEAE} and AESER == 'Y'", any_label="Subjects with at least one serious TEAE"),)),
              requires=("ADSL", "ADAE"), footnotes=(TEAE_FOOT, CTCAE_FOOT, PCT_FOOT)),
    TableSpec("14.3.2.2", "Adverse Events Leading to Death by System Organ Class and Preferred Term", SAFETY,
              ByColumns(columns=TRT, stub_header="System organ class / Preferred term", blocks=(
                  AEHierarchy(where=DEATH_AE, any_label="Subjects with an AE leading to death"),)),
              requires=("ADSL", "ADAE"),
              footnotes=("AE leading to death: AESDTH = 'Y', CTCAE grade 5 or outcome FATAL; all AEs, "
                         "treatment-emergent or not.", CTCAE_FOOT, PCT_FOOT)),
    TableSpec("14.3.4.1", "Peak Post-Infusion Cytokines and Inflammatory Markers by Maximum CRS Grade", SAFETY,
              ByColumns(columns=Columns(
                  var="CRSMAXGR", order="CRSMAXGR", total="Total",
                  labels={0.0: "No CRS", 1.0: "CRS grade 1", 2.0: "CRS grade 2", 3.0: "CRS grade 3",
                          4.0: "CRS grade 4", 5.0: "CRS grade 5"},
                  derive=SubjectVar("CRSMAXGR", "ADAE", "ASTCTGRN", where=f"{TEAE} and CRSFL == 'Y'",
                                    agg="max", fill=0.0)),
                  blocks=tuple(Continuous("AVAL", f"Peak {lab}", dataset="ADLB",
                                          where=f"PARAMCD == '{code}' and ADY >= 1", agg="max",
                                          stats=("n", "median_range"), decimals=1, range_decimals=1,
                                          unit_var="AVALU")
                               for code, lab in [("CRP", "C-reactive protein"), ("INTLK6", "Interleukin-6"),
                                                 ("FERRITIN", "Ferritin")])),
              requires=("ADSL", "ADAE", "ADLB"),
              footnotes=("Peak: maximum value from day 1 after infusion (ADLB PARAMCD CRP, INTLK6, FERRITIN).",
                         "Columns: maximum ASTCT grade of treatment-emergent CRS per subject.")),
)

FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec("14.2.1.2", "Kaplan-Meier Plot of Duration of Response by Route", EFFICACY,
               KMPlot("DOR", group_var="ROUTE", group_order="TRT01AN", group_label=ROUTE_GROUP),
               requires=("ADSL", "ADTTE"), footnotes=(MONTH_FOOT, "Responders only.")),
    FigureSpec("14.2.1.3", "Waterfall Plot of Best Percent Change in Sum of Diameters", EFFICACY,
               Waterfall(bar_label="{SUBJID}"), requires=("ADSL", "ADRS"),
               footnotes=("Dashed lines: +20% (progression) and -30% (partial response) thresholds.",
                          "Bars coloured by best overall response (RECIST 1.1).")),
    FigureSpec("14.2.1.4", "Swimmer Plot of Time on Study with Response Events", EFFICACY,
               Swimmer(group_var="ROUTE", group_order="TRT01AN", group_label=ROUTE_GROUP,
                       subject_label="{SUBJID} {DOSELVL} (Part {PART})"),
               requires=("ADSL", "ADRS"),
               footnotes=("Bars: infusion to death or last date known alive, coloured by route.", MONTH_FOOT)),
    FigureSpec("14.2.1.5", "Spider Plot of Percent Change in Sum of Diameters over Time by Route", EFFICACY,
               Spider(group_var="ROUTE", group_order="TRT01AN", group_label=ROUTE_GROUP), requires=("ADSL",),
               footnotes=("Dashed lines: +20% and -30% thresholds.", MONTH_FOOT)),
    FigureSpec("14.2.2.1", "Kaplan-Meier Plot of Progression-Free Survival by Route", EFFICACY,
               KMPlot("PFS", group_var="ROUTE", group_order="TRT01AN", group_label=ROUTE_GROUP),
               requires=("ADSL", "ADTTE"), footnotes=(MONTH_FOOT,)),
    FigureSpec("14.2.2.2", "Kaplan-Meier Plot of Overall Survival by Route", EFFICACY,
               KMPlot("OS", group_var="ROUTE", group_order="TRT01AN", group_label=ROUTE_GROUP),
               requires=("ADSL", "ADTTE"), footnotes=(MONTH_FOOT,)),
    FigureSpec("14.2.3.1", "Mean (+/- SD) Transgene Concentration over Time by Dose Level (Log Scale)", PK,
               MeanConcentration(where="ANL01FL == 'Y'", group_var="DOSELVL", group_order="DOSELVL",
                                 group_label="{DOSELVL}", panel_var="ROUTE", panel_order="TRT01AN",
                                 panel_label=ROUTE_GROUP),
               requires=("ADSL", "ADPC"),
               footnotes=("BLQ values set to missing for the mean; points with mean <= 0 not shown.",
                          "One panel per route; Part A and Part B subjects at the same dose level pooled; "
                          "analysed samples only (ANL01FL = 'Y').",
                          "Time axis linear to day 28, logarithmic after; pre-infusion samples not shown.")),
)
