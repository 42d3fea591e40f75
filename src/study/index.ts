/** The study layer: declarative ablation grids (the paper's Tables I-V), their runner and reports. */
export { type Cell, type Finding, type PretrainRun, type Recipe, type Study, expandStudy, parseStudy, pretrainKey, recipeSchema, studySchema } from './study.ts';
export { studyPreset, studyPresetNames } from './presets.ts';
export { type CellEvaluation, type EpisodeOutcome, type StudyBackend, type StudyPlan, DOWNSTREAM_ROBOT, formatPlan, planStudy, readCellEvaluation, runStudy, scheduledSeconds, studyColumns } from './runner.ts';
export { type Estimate, type FindingResult, type ReportRow, type StudyResults, findingVerdict, pairedDelta, reportChartSvg, reportHtml, reportMarkdown, studyResults } from './report.ts';
export { type BlindBar, type BlindFigure, BLIND_FIGURES, blindFigure, blindFigureReport, runBlindFigure } from './blind.ts';
