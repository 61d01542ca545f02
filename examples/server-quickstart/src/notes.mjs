// The quickstart's documents: short notes with a topic and a year as metadata.
export const notes = [
  { id: "sputnik", text: "Sputnik 1, the first artificial satellite, was launched by the Soviet Union in 1957.", topic: "space", year: 1957 },
  { id: "apollo-11", text: "Apollo 11 landed the first humans on the Moon in July 1969.", topic: "space", year: 1969 },
  { id: "hubble", text: "The Hubble Space Telescope was launched into low Earth orbit in 1990.", topic: "space", year: 1990 },
  { id: "iss", text: "The International Space Station has been continuously occupied since November 2000.", topic: "space", year: 2000 },
  { id: "jwst", text: "The James Webb Space Telescope observes distant galaxies in infrared light.", topic: "space", year: 2021 },
  { id: "penicillin", text: "Alexander Fleming discovered penicillin, the first widely used antibiotic, in 1928.", topic: "medicine", year: 1928 },
  { id: "polio", text: "Jonas Salk's polio vaccine was declared safe and effective in 1955.", topic: "medicine", year: 1955 },
  { id: "mrna", text: "mRNA vaccines against COVID-19 were authorised for emergency use in December 2020.", topic: "medicine", year: 2020 },
  { id: "dna", text: "Watson and Crick described the double-helix structure of DNA in 1953.", topic: "biology", year: 1953 },
  { id: "genome", text: "The Human Genome Project published a draft of the human genome in 2001.", topic: "biology", year: 2001 },
  { id: "transistor", text: "The transistor was invented at Bell Labs in 1947 and replaced vacuum tubes in electronics.", topic: "computing", year: 1947 },
  { id: "web", text: "Tim Berners-Lee proposed the World Wide Web at CERN in 1989.", topic: "computing", year: 1989 },
];

/** The questions asked, each with a Chroma `where` filter. */
export const questions = [
  { question: "Which telescopes look at far away galaxies?", where: { topic: "space" } },
  { question: "Vaccines that protect people from disease", where: { $and: [{ topic: "medicine" }, { year: { $gte: 1950 } }] } },
  { question: "Inventions that changed how computers work", where: { year: { $lt: 1960 } } },
];
